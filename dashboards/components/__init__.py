"""Reusable dashboard pieces: each ``show(key=...)`` owns its session state."""
