"""Replies and bounces of one inquiry, fetched by jobs.fetch_mail: read them, mark them handled.

Usage on the inquiry thread page: ``inbound_mail.show(inquiry_id=inquiry.id, user=user)``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core import clock
from core.communication import inbound_store
from core.db import session_scope
from dashboards import data, formatting
from dashboards.i18n import t


def show(*, inquiry_id: int, user) -> None:
    """List the inquiry's inbound mails (open first) with their text and an "Erledigt" button each."""
    with session_scope(data.engine()) as session:
        mails = inbound_store.for_inquiry(session, inquiry_id=inquiry_id, actor=user.email, actor_id=user.id)
        session.expunge_all()
    if not mails:
        return
    st.subheader(t("inbound.title"))
    for mail in mails:
        state = t("inbound.handled") if mail.handled_at else t("inbound.open")
        label = (
            f"{t(f'followup.kind.{mail.kind.value}')} · {formatting.moment(clock.local(mail.received_at))} · {state}"
        )
        with st.expander(label, expanded=mail.handled_at is None):
            who = mail.failed_address if mail.kind.value == "bounce" else mail.from_address
            st.text(f"{who or ''}\n{mail.subject}")
            st.text(mail.body_text[:5000])  # st.text: shown literally, never as Markdown
            if mail.handled_at is None and st.button(t("inbound.mark_handled"), key=f"inbound_handled_{mail.id}"):
                with session_scope(data.engine()) as session:
                    inbound_store.mark_handled(session, inbound_id=mail.id, actor=user.email, now=datetime.now(UTC))
                st.rerun()
