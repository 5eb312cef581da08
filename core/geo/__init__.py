"""Postcodes, geocoding and distances."""
