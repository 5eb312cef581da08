"""Audit what a page showed of personal data: one row per view, naming references and ids, never names.

A Streamlit page reruns on every click; a rerun that shows the same data again to the same user within
``REPEAT`` is the same view and writes nothing, so the log stays cheap and readable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from core.audit import service as audit
from core.db import session_scope
from dashboards import data
from dashboards.components.login import CurrentUser

REPEAT = timedelta(minutes=10)  # the same view again after this is a new read (a page left open, looked at later)


def record(
    user: CurrentUser,
    *,
    what: str,
    page: str,
    references: list[str] | None = None,
    details: dict[str, Any] | None = None,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
    every_time: bool = False,
) -> None:
    """Write the audit row for this view unless the same view was just recorded in this browser session.

    ``every_time``: a download is a new copy each time, so it is always recorded.
    """
    view = json.dumps([what, page, sorted(references or []), details, entity_type, entity_id], default=str)
    seen: dict[str, tuple[str, datetime]] = st.session_state.setdefault("_audit_last_read", {})
    now = datetime.now(UTC)
    last = seen.get(what)
    if not every_time and last and last[0] == view and now - last[1] < REPEAT:
        return
    with session_scope(data.engine()) as session:
        audit.record_read(
            session,
            actor=user.email,
            actor_id=user.id,
            what=what,
            page=page,
            references=references,
            details=details,
            entity_type=entity_type,
            entity_id=entity_id,
        )
    seen[what] = (view, now)
