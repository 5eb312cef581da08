"""Inquiry thread: every mail, call and answer of one inquiry (?id=N), newest first."""

from __future__ import annotations

import streamlit as st

from core.communication import timeline
from core.db import session_scope
from core.errors import NotFound
from core.matching import inquiries
from core.matching.queries import therapist_name
from core.therapists.models import Therapist
from dashboards import data
from dashboards.components import communication_timeline, inbound_mail
from dashboards.components.login import require_user
from dashboards.i18n import say, t
from dashboards.plain_text import literal

user = require_user()
st.title(t("followup.thread.title"))
raw_id = st.query_params.get("id", "")
if not (raw_id.isascii() and raw_id.isdigit()):  # isdigit() alone takes "٧" (Arabic-Indic), int() reads 7
    st.info(t("followup.thread.missing"))
    st.stop()
try:
    with session_scope(data.engine()) as session:
        inquiry = inquiries.get(session, inquiry_id=int(raw_id))
        header = t(
            "followup.thread.header",
            reference=inquiry.reference,
            status=t(f"inquiry.status.{inquiry.status.value}"),
            therapist=literal(therapist_name(session.get(Therapist, inquiry.therapist_id))),
        )
        entries = timeline.entries(session, inquiry_id=inquiry.id)
except NotFound as exc:
    st.error(say(exc))
    st.stop()
st.markdown(header)
inbound_mail.show(inquiry_id=int(raw_id), user=user)
if not entries:
    st.info(t("followup.timeline.empty"))
    st.stop()
communication_timeline.table(entries)
