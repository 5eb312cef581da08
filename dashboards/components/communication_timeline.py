"""Communication timeline of a patient or a therapist: mails, calls and answers, newest first.

Usage on a detail page: ``communication_timeline.show(patient_id=patient.id)``.
"""

from __future__ import annotations

import streamlit as st

from core import clock
from core.communication import timeline
from core.db import session_scope
from dashboards import data, formatting
from dashboards.i18n import CATALOG, current_language, t


def _what(entry: timeline.TimelineEntry) -> str:
    if entry.kind == "answer":
        return t(f"outcome.{entry.title}")
    if entry.kind == "call":  # the outcome code, or "scheduled" while the call is due
        return _known(f"followup.calls.outcome.{entry.title}") or _known(f"call.outcome.{entry.title}") or entry.title
    return entry.title  # a mail's subject


def _status(entry: timeline.TimelineEntry) -> str:
    """Return a mail status, call status or answer source in words ("sent" -> "Gesendet", "link" -> ...)."""
    if not entry.status:
        return ""
    key = {"mail": "mail.status", "call": "call.status", "answer": "answer.source", "reply": "inbound",
           "bounce": "inbound"}.get(entry.kind, entry.kind)  # fmt: skip
    return _known(f"{key}.{entry.status}") or entry.status


def _known(key: str) -> str | None:
    return t(key) if key in CATALOG[current_language()] else None


def table(entries: list[timeline.TimelineEntry]) -> None:
    """Render entries as a table (also used by the inquiry thread page)."""
    st.dataframe(
        {
            t("followup.timeline.at"): [formatting.moment(clock.local(e.at)) for e in entries],
            t("followup.timeline.kind"): [t(f"followup.kind.{e.kind}") for e in entries],
            t("followup.timeline.what"): [_what(e) for e in entries],
            t("followup.timeline.status"): [_status(e) for e in entries],
            t("followup.timeline.inquiry"): [e.inquiry_reference or "" for e in entries],
            t("followup.timeline.detail"): [e.detail for e in entries],
        },
        hide_index=True,
        width="stretch",
    )


def show(*, patient_id: int | None = None, therapist_id: int | None = None) -> None:
    """Show the timeline of one patient or one therapist under a subheader, or a short empty note."""
    st.subheader(t("followup.timeline.title"))
    with session_scope(data.engine()) as session:
        entries = timeline.entries(session, patient_id=patient_id, therapist_id=therapist_id)
    if not entries:
        st.info(t("followup.timeline.empty"))
        return
    table(entries)
