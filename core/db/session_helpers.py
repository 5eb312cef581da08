"""Reference data that every database needs after migrating (postcodes)."""

from __future__ import annotations

from sqlalchemy import Engine

from core.db import session_scope


def load_reference_data(engine: Engine) -> None:
    """Load the postcode table if it is empty."""
    from core.geo.postcodes import ensure_postcodes

    with session_scope(engine) as session:
        ensure_postcodes(session)
