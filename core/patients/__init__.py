"""Patients, their consents and their searches for a therapy place."""
