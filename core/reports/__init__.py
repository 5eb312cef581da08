"""Saved custom reports: a named report definition a staff user keeps for themselves or shares."""
