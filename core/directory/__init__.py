"""Therapist directory import from 116117 search exports: read, normalise, match, diff, preview, commit."""
