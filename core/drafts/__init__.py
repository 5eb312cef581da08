"""Unsaved form input kept on the server per login, so a reload or a new tab gets it back (core.drafts.service)."""
