"""All caching of the dashboards: engines and reference data as resources, frames with a TTL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from core.config import get_settings


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """Return the process-wide database engine (starts the embedded server if DATABASE_URL is unset)."""
    from core.db import get_engine

    return get_engine()


@st.cache_data(ttl=10, show_spinner=False)
def system_status() -> dict[str, Any]:
    """Return the system status, refreshed at most every 10 seconds."""
    from core.operations.status import system_status as compute

    return compute(engine(), get_settings(), now=datetime.now(UTC))


def clear_status() -> None:
    system_status.clear()
