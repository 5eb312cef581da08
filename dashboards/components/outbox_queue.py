"""The mails waiting in the outbox (queued, or failed and waiting for their retry), each readable before it goes out.

Usage on the Postfach page: ``outbox_queue.show(user, rows=outbox["waiting"], when=when)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

from core.communication import sender
from core.db import session_scope
from core.errors import WorkbenchError
from dashboards import data
from dashboards.components import mail_frame, read_audit
from dashboards.components.login import CurrentUser
from dashboards.i18n import say, t
from dashboards.plain_text import literal

Rows = list[dict[str, Any]]


def status_label(status: str) -> str:
    return t(f"mail.status.{status}")


def show(user: CurrentUser, *, rows: Rows, when: Callable[[datetime], str], key: str = "queued") -> None:
    """List the waiting mails in a picker and show the picked one's text and HTML (an audited read)."""
    st.markdown(f"**{t('mail.queued')}**")
    if not rows:
        st.info(t("mail.queued_none"))
        return
    labels = {
        row["id"]: f"{row['id']}: {row['subject']} ({row['to']}) · {status_label(row['status'])}"
        f" · {when(row['due_at'] or row['created_at'])}"
        for row in rows
    }
    picked = st.selectbox(t("mail.queued_pick"), list(labels), format_func=labels.get, key=f"{key}_pick")
    try:
        with session_scope(data.engine()) as session:
            mail = sender.content(session, email_id=picked)
    except WorkbenchError as exc:
        st.error(say(exc))
        return
    read_audit.record(user, what="mail", page="mailbox", entity_type="email", entity_id=mail["id"])
    with st.container(border=True):
        st.markdown(f"**{t('mail.col.subject')}:** {literal(mail['subject'])}")  # data: shown literally
        st.caption(f"{t('mail.col.to')}: {mail['to']} · {status_label(mail['status'])}")
        tab_text, tab_html = st.tabs([t("mail.tab_text"), t("mail.tab_html")])
        with tab_text:
            st.code(mail["text"], language=None, wrap_lines=True)
        with tab_html:
            if mail["html"]:
                mail_frame.show(mail["html"], height=420)
            else:
                st.info(t("mail.no_html"))
