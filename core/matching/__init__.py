"""Inquiries to therapists, their items, and placements."""
