"""Heute: the landing page of staff and managers: what needs a person now, each count with a link to the work."""

from __future__ import annotations

import streamlit as st

from core import clock
from core.db import session_scope
from core.operations import today as heute
from dashboards import data, formatting
from dashboards.components import patient_calls
from dashboards.components.login import require_user
from dashboards.i18n import nt, t
from dashboards.navigation import PAGES, page_path
from dashboards.plain_text import literal

SHOWN_ROWS = 15  # the rest is one click away on the linked pages

user = require_user()
now = clock.now()
st.title(t("today.title"))
st.caption(t("today.caption", when=formatting.moment(clock.local(now))))
with session_scope(data.engine()) as session:
    queue = heute.work_queue(session, now=now)

if queue.nothing_to_do:
    st.success(t("today.nothing"), icon=":material/task_alt:")
    st.stop()


def may_open(file: str) -> bool:
    return any(p.file == file and user.role in p.roles for p in PAGES)


def tile(column, *, label: str, count: int, help_key: str, page: str, extra: str | None = None) -> None:
    with column.container(border=True):
        st.metric(label, count, help=t(help_key))
        if extra:
            st.caption(extra)
        if count and may_open(page):
            st.page_link(page_path(page), label=f"{t('today.open')}: {label}", icon=":material/arrow_forward:")
        elif not count:
            st.caption(t("today.none"))


tiles = [
    {"label": t("today.proposals"), "count": queue.proposals, "help_key": "today.proposals.help",
     "page": "proposals.py"},
    {"label": t("today.calls"), "count": queue.calls_due.count, "help_key": "today.calls.help", "page": "calls.py",
     "extra": t("today.calls.open_now", count=queue.calls_due.open_now) if queue.calls_due.count else None},
    {"label": t("today.answers"), "count": queue.answers_to_record, "help_key": "today.answers.help",
     "page": "answers.py", "extra": nt("today.replies", queue.mail_replies) if queue.mail_replies else None},
    {"label": t("today.conflicts"), "count": queue.conflicts, "help_key": "today.conflicts.help",
     "page": "conflicts.py"},
    {"label": t("today.bounced"), "count": queue.bounced_mail, "help_key": "today.bounced.help", "page": "mailbox.py"},
    {"label": t("today.doubt"), "count": queue.mail_in_doubt, "help_key": "today.doubt.help", "page": "mailbox.py"},
]  # fmt: skip
for start in range(0, len(tiles), 3):
    for column, spec in zip(st.columns(3), tiles[start : start + 3], strict=True):
        tile(column, **spec)

patient_calls.show_due_tasks(queue.tasks_due, shown_rows=SHOWN_ROWS)

st.subheader(t("today.blocked.title"))
if not queue.blocked_searches:
    st.caption(t("today.none"))
else:
    st.caption(nt("today.blocked.count", len(queue.blocked_searches)))
    for blocked in queue.blocked_searches[:SHOWN_ROWS]:
        missing = ", ".join(t(f"today.blocker.{code}") for code in blocked.codes)
        st.page_link(
            page_path("patient.py"),
            label=f"{blocked.reference} · {t('today.blocked.why')}: {missing}",
            query_params={"id": blocked.patient_id},
            icon=":material/person:",
        )

st.subheader(t("today.blocks.title"))
if not queue.blocks_ending:
    st.caption(t("today.none"))
else:
    st.caption(nt("today.blocks.count", len(queue.blocks_ending), days=heute.BLOCK_ENDING_DAYS))
    for block in queue.blocks_ending[:SHOWN_ROWS]:
        st.page_link(
            page_path("therapist.py"),
            label=f"{literal(block.name)} · {t('today.blocks.until')} {block.until:%d.%m.%Y}",
            query_params={"id": block.therapist_id},
            icon=":material/stethoscope:",
        )
