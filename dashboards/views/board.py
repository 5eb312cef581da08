"""Board: every search by its current step (search, inquiries, answers, placement), with filters."""

from __future__ import annotations

import streamlit as st

from core import clock
from core.db import session_scope
from core.operations import workflow
from core.patients.models import SearchStatus
from dashboards import data
from dashboards.components.login import require_user
from dashboards.components.workflow_path import days_text
from dashboards.i18n import t
from dashboards.navigation import page_path

STATUSES = [s.value for s in SearchStatus]
SHOWN_CARDS = 30  # per column; the longest-waiting come first

require_user()
today = clock.today()
st.title(t("board.title"))
st.caption(t("board.caption"))
left, middle, right = st.columns([2, 1, 1])
statuses = left.multiselect(
    t("board.statuses"),
    STATUSES,
    default=["active", "paused"],
    format_func=lambda s: t(f"search.status.{s}"),
    placeholder=t("select.placeholder"),
    key="board_statuses",
)
region = middle.text_input(t("board.region"), max_chars=5, help=t("board.region.help"), key="board_region").strip()
min_waiting = right.number_input(t("board.min_waiting"), min_value=0, max_value=3650, step=7, key="board_waiting")
if region and not (region.isascii() and region.isdigit()):
    st.error(t("board.region.invalid", region=region))
    st.stop()

with session_scope(data.engine()) as session:
    columns = workflow.board(session, today=today, statuses=tuple(SearchStatus(s) for s in statuses),
                             region=region or None, min_waiting_days=int(min_waiting))  # fmt: skip
if not any(columns.values()):
    st.info(t("board.empty"))
    st.stop()

for column, (step, cards) in zip(st.columns(len(columns)), columns.items(), strict=True):
    column.subheader(t("board.column", step=t(f"workflow.step.{step}"), count=len(cards)))
    if not cards:
        column.caption(t("board.column.empty"))
    for card in cards[:SHOWN_CARDS]:
        with column.container(border=True):
            st.page_link(page_path("patient.py"), label=card["reference"], query_params={"id": card["patient_id"]},
                         icon=":material/person:")  # fmt: skip
            st.caption(
                t(
                    "board.card",
                    in_step=days_text(card["days_in_step"]),
                    waiting=days_text(card["waiting_days"]),
                    status=t(f"search.status.{card['status']}"),
                )
            )
    if len(cards) > SHOWN_CARDS:
        column.caption(f"+ {len(cards) - SHOWN_CARDS}")
