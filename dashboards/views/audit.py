"""Audit log for admins: who read or changed what, filtered by actor, action, patient reference and dates."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core import clock
from core.audit import chain, queries
from core.config import get_settings
from core.db import session_scope
from core.errors import ValidationError
from core.operations import runner
from dashboards import data, formatting
from dashboards.components.login import require_user
from dashboards.i18n import audit_action, say, t

PAGE_SIZE = 50
user = require_user()
if user.role != "admin":
    st.error(t("audit.denied"))
    st.stop()
tz = ZoneInfo(get_settings().timezone)


def when(value) -> str:
    return formatting.moment(clock.local(value), seconds=True)


st.title(t("audit.title"))
st.caption(t("audit.intro"))

# --- chain check ----------------------------------------------------------------------------------------------
with st.container(border=True):
    st.markdown(f"**{t('audit.chain')}**")
    if st.button(t("audit.chain_check"), icon=":material/verified:", key="audit_check"):
        runner.run_job("check_audit", triggered_by=user.email, engine=data.engine())
    with session_scope(data.engine()) as session:
        last = runner.last_runs(session).get("check_audit")
        passed = chain.latest_check(session)
        if last is None:
            st.info(t("audit.chain_never"))
        elif last.status.value == "failed":
            problem = (last.error or "").splitlines()[0].removeprefix("JobError: ")
            st.error(t("audit.chain_broken", when=when(last.started_at), problem=problem))
        elif passed is not None:
            st.success(t("audit.chain_ok", when=when(passed.checked_at), rows=passed.rows_checked))
        else:
            st.info(t("audit.chain_never"))

# --- filters --------------------------------------------------------------------------------------------------
with session_scope(data.engine()) as session:
    known_actions = queries.actions(session)
with st.container(border=True):
    c1, c2, c3 = st.columns([2, 2, 1.4])
    actor = c1.text_input(t("audit.filter.actor"), key="audit_actor", placeholder="anna@example.org")
    action = c2.selectbox(
        t("audit.filter.action"),
        ["", queries.READ_ACTIONS, *known_actions],
        format_func=lambda a: (
            t("audit.filter.any") if not a else t("audit.filter.reads") if a == "read." else audit_action(a)
        ),
        key="audit_action",
    )
    reference = c3.text_input(t("audit.filter.reference"), key="audit_reference", placeholder="P-7K3F9Q")
    c1, c2, c3 = st.columns([2, 2, 1.4])
    since = c1.date_input(t("audit.filter.since"), value=None, format="DD.MM.YYYY", key="audit_since")
    until = c2.date_input(t("audit.filter.until"), value=None, format="DD.MM.YYYY", key="audit_until")
    page = c3.number_input(t("audit.page"), min_value=1, value=1, step=1, key="audit_page_no")

filters = queries.AuditFilters(
    actor=actor, action=action, reference=reference, since=since, until=until, timezone=str(tz)
)
try:
    with session_scope(data.engine()) as session:
        result = queries.search(session, filters=filters, page=int(page), page_size=PAGE_SIZE)
except ValidationError as exc:
    st.error(say(exc))
    st.stop()
if not result["rows"]:
    st.info(t("audit.empty"))
    st.stop()

st.caption(t("audit.page_of", page=result["page"], pages=result["pages"], total=result["total"]))
rows = result["rows"]
st.dataframe(
    pd.DataFrame(
        {
            t("audit.col.id"): [r["id"] for r in rows],
            t("audit.col.when"): [when(r["occurred_at"]) for r in rows],
            t("audit.col.actor"): [r["actor"] for r in rows],
            t("audit.col.action"): [audit_action(r["action"]) for r in rows],
            t("audit.col.entity"): [r["entity"] for r in rows],
            t("audit.col.references"): [", ".join(r["references"]) for r in rows],
            t("audit.col.reason"): [r["reason"] or "" for r in rows],
            t("audit.col.details"): [", ".join(f"{k}={v}" for k, v in r["details"].items()) for r in rows],
        }
    ),
    hide_index=True,
    width="stretch",
    column_config={t("audit.col.id"): st.column_config.NumberColumn(width="small", format="%d")},
)
