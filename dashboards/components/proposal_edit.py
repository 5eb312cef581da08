"""Editing one proposed inquiry: add a waiting patient by reference, or swap the therapist (limits re-checked)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from sqlalchemy import select

from core.db import session_scope
from core.errors import ValidationError
from core.matching import service as matching
from core.patients.models import Patient
from core.patients.service import current_search
from core.therapists.service import search as find_therapists
from dashboards import data
from dashboards.components.login import CurrentUser
from dashboards.i18n import t


def _search_of(session, reference: str) -> int:
    patient = session.scalar(select(Patient).where(Patient.reference == reference.strip().upper()))
    if patient is None:
        raise ValidationError(f"No patient has the reference '{reference}'; e.g. P-7K3F9Q", field="reference")
    search = current_search(session, patient_id=patient.id)
    if search is None:
        raise ValidationError(f"Patient {patient.reference} has no open search to add", field="reference")
    return search.id


def show(*, inquiry: dict, user: CurrentUser, act, column) -> None:
    """Render the add and swap popovers in ``column``; ``act(action, success)`` runs and reports an action."""
    iid = inquiry["inquiry_id"]
    with column.popover(t("proposals.add"), icon=":material/person_add:"):
        reference = st.text_input(t("proposals.add_reference"), key=f"add_ref_{iid}", placeholder="P-7K3F9Q")
        if st.button(t("proposals.add"), key=f"add_{iid}") and reference.strip():
            act(
                lambda s: matching.add_search(
                    s,
                    inquiry_id=iid,
                    search_id=_search_of(s, reference),
                    actor=user.email,
                    actor_id=user.id,
                    now=datetime.now(UTC),
                ),
                t("proposals.added"),
            )
            st.rerun()
    with column.popover(t("proposals.swap"), icon=":material/swap_horiz:"):
        query = st.text_input(t("whynot.therapist"), key=f"swap_query_{iid}")
        if len(query.strip()) >= 2:
            with session_scope(data.engine()) as session:
                options = {m["id"]: m for m in find_therapists(session, query=query, limit=10)}
            if not options:
                st.caption(t("quick.none"))
                return
            chosen = st.selectbox(
                t("whynot.choose_therapist"),
                list(options),
                key=f"swap_pick_{iid}",
                format_func=lambda i: f"{options[i]['name']} · {options[i]['postcode'] or ''}",
            )
            reason = st.text_input(t("proposals.override"), key=f"swap_reason_{iid}")
            if st.button(t("proposals.swap"), key=f"swap_{iid}"):
                act(
                    lambda s: matching.swap_therapist(
                        s,
                        inquiry_id=iid,
                        therapist_id=chosen,
                        actor=user.email,
                        actor_id=user.id,
                        now=datetime.now(UTC),
                        override_reason=reason or None,
                    ),
                    t("proposals.swapped"),
                )
                st.rerun()
