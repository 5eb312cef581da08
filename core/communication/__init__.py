"""Emails (a transactional outbox) and phone calls."""
