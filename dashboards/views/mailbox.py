"""Mailbox: the outbox state (dead mail, mail in doubt to settle) and the mail the local catcher received."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from core import clock
from core.communication import catcher, sender, window
from core.config import get_settings
from core.db import session_scope
from core.errors import WorkbenchError
from dashboards import data, formatting
from dashboards.components import mail_frame, outbox_queue, read_audit
from dashboards.components.login import require_user
from dashboards.i18n import say, t

user = require_user()
if user.role not in {"admin", "staff"}:
    st.error(t("mail.denied"))
    st.stop()
settings = get_settings()


def when(value: datetime) -> str:
    return formatting.moment(clock.local(value), seconds=True)


st.title(t("mail.title"))
st.caption(t("mail.intro"))
for kind, message in st.session_state.pop("mailbox_flash", []):
    getattr(st, kind)(message)
if st.button(t("mail.refresh"), icon=":material/refresh:", key="mailbox_refresh"):
    data.clear_mailbox()

try:
    send_window = window.parse_window(settings.send_window)
    state = window.state(send_window, datetime.now(UTC), timezone=settings.timezone)
    if state.open:
        window_text = t("mail.window_open")
    elif state.opens_at:
        window_text = t("mail.window_closed", opens=formatting.moment(clock.local(state.opens_at)))
    else:
        window_text = t("mail.window_never")
    st.caption(t("mail.window", spec=formatting.send_window(send_window), state=window_text))
except WorkbenchError as exc:
    st.error(say(exc))

# --- outbox ---------------------------------------------------------------------------------------------------
st.subheader(t("mail.outbox"))
outbox = data.outbox_state()
counts = outbox["counts"]
review_rows = [row for row in outbox["problems"] if row["needs_review"]]
cols = st.columns(6)
for col, status in zip(cols, ["queued", "sending", "sent", "failed", "dead"], strict=False):
    col.metric(t(f"mail.status.{status}"), f"{counts[status]:,}".replace(",", "."))
cols[5].metric(t("mail.needs_review"), len(review_rows))

st.markdown(f"**{t('mail.problems')}**")
if not outbox["problems"]:
    st.info(t("mail.problems_none"))
else:
    problems = pd.DataFrame(
        {
            t("mail.col.id"): [row["id"] for row in outbox["problems"]],
            t("mail.col.status"): [
                t("mail.needs_review") if row["needs_review"] else t(f"mail.status.{row['status']}")
                for row in outbox["problems"]
            ],
            t("mail.col.to"): [row["to"] for row in outbox["problems"]],
            t("mail.col.subject"): [row["subject"] for row in outbox["problems"]],
            t("mail.col.attempts"): [row["attempts"] for row in outbox["problems"]],
            t("mail.col.error"): [
                t("mail.in_doubt") if row["last_error"] == sender.IN_DOUBT_NOTE else row["last_error"]
                for row in outbox["problems"]
            ],
            t("mail.col.updated"): [when(row["updated_at"]) for row in outbox["problems"]],
            # what to look for at the recipient or in the mail server's log when a mail is in doubt
            "Message-ID": [row["message_id"] if row["needs_review"] else "" for row in outbox["problems"]],
        }
    )
    if review_rows and catcher.receives_outgoing_mail(settings):  # embedded default: the local mailbox knows
        arrived = catcher.received_message_ids(settings.data_dir / "mailbox", {r["message_id"] for r in review_rows})
        problems[t("mail.col.local")] = [
            (t("mail.local_yes") if row["message_id"] in arrived else t("mail.local_no")) if row["needs_review"] else ""
            for row in outbox["problems"]
        ]
    first = [
        t("mail.col.id"),
        t("mail.col.status"),
        t("mail.col.local"),
        t("mail.col.to"),
        t("mail.col.subject"),
        "Message-ID",
    ]
    order = [c for c in first if c in problems] + [c for c in problems if c not in first]  # evidence in view
    st.dataframe(
        problems,
        hide_index=True,
        width="stretch",
        column_order=order,
        column_config={
            t("mail.col.id"): st.column_config.NumberColumn(width="small"),
            t("mail.col.attempts"): st.column_config.NumberColumn(width="small"),
            t("mail.col.error"): st.column_config.TextColumn(width="medium"),
        },
    )

if review_rows:
    with st.form("mail_review", clear_on_submit=False):
        st.markdown(f"**{t('mail.review')}**")
        st.caption(t("mail.review_help"))
        labels = {row["id"]: f"{row['id']}: {row['subject']} ({row['to']})" for row in review_rows}
        picked = st.selectbox(t("mail.review_pick"), list(labels), format_func=labels.get, key="mail_review_id")
        left, right = st.columns(2)
        delivered = left.form_submit_button(t("mail.review_delivered"), icon=":material/mark_email_read:")
        resend = right.form_submit_button(t("mail.review_resend"), icon=":material/forward_to_inbox:")
    if delivered or resend:
        try:
            with session_scope(data.engine()) as session:
                sender.resolve_review(
                    session,
                    email_id=picked,
                    delivered=bool(delivered),
                    actor=user.email,
                    actor_id=user.id,
                    now=datetime.now(UTC),
                )
        except WorkbenchError as exc:
            st.error(say(exc))
        else:
            done = "mail.review_done_sent" if delivered else "mail.review_done_queued"
            st.session_state["mailbox_flash"] = [("success", t(done, id=picked))]
            data.clear_mailbox()
            st.rerun()

outbox_queue.show(user, rows=outbox.get("waiting", []), when=when)

# --- caught mail ----------------------------------------------------------------------------------------------
st.subheader(t("mail.caught"))
mails = data.caught_mail()
if not mails:
    st.info(t("mail.caught_none"))
    st.stop()
query = st.text_input(t("mail.search"), key="mail_search").strip().lower()
shown = [m for m in mails if not query or query in m.subject.lower() or query in m.recipients.lower()]
if not shown:
    st.info(t("mail.search_none", query=query))
    st.stop()
st.caption(t("mail.count", shown=len(shown), total=len(mails)))
st.dataframe(
    pd.DataFrame(
        {
            t("mail.col.received"): [when(m.received_at) for m in shown],
            t("mail.col.subject"): [m.subject for m in shown],
            t("mail.col.to"): [m.recipients for m in shown],
        }
    ),
    hide_index=True,
    width="stretch",
    height=min(35 * (len(shown) + 1) + 3, 318),  # rows of 35 px and the header: no empty row below
)

names = [m.path.stem for m in shown]
wanted = st.query_params.get("mail")
index = names.index(wanted) if wanted in names else 0
labels = {m.path.stem: f"{when(m.received_at)}  {m.subject}  ({m.recipients})" for m in shown}
name = st.selectbox(t("mail.pick"), names, index=index, format_func=labels.get, key="mail_pick")
st.query_params["mail"] = name  # shareable link to this mail
mail = shown[names.index(name)]
read_audit.record(user, what="mail", page="mailbox", entity_type="caught_mail", entity_id=name)

st.markdown(f"#### {mail.subject}")
st.caption(f"{t('mail.col.from')}: {mail.sender} · {t('mail.col.to')}: {mail.recipients} · {when(mail.received_at)}")
tab_html, tab_text, tab_headers = st.tabs([t("mail.tab_html"), t("mail.tab_text"), t("mail.tab_headers")])
with tab_html:
    if mail.html:
        with st.container(border=True):
            mail_frame.show(mail.html, height=480)  # sandboxed: no script, no origin, no fetch
    else:
        st.info(t("mail.no_html"))
with tab_text:
    st.code(mail.text, language=None, wrap_lines=True)
with tab_headers:
    headers = pd.DataFrame({t("mail.header"): list(mail.headers), t("mail.value"): list(mail.headers.values())})
    st.dataframe(headers, hide_index=True, width="stretch")  # plain text: no link rendering of <message-id>
