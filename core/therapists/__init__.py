"""Therapists and the practices through which they are contacted."""
