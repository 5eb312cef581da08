"""Relaxed criteria of one search: shown with who and why, added or removed by staff (every change audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from core.matching import relaxations
from core.matching import service as matching
from dashboards.components.login import CurrentUser
from dashboards.i18n import t
from dashboards.plain_text import literal

NUMERIC = {"distance", "travel_time", "availability_overlap"}  # the other rules take one fixed value


def show(*, search: dict[str, Any], user: CurrentUser, run) -> None:
    """Render the relaxations of ``search``; ``run(action, success)`` executes a core action in a transaction."""
    st.markdown(f"**{t('relax.title')}**")
    current = search.get("relaxations") or []
    if not current:
        st.caption(t("relax.none"))
    for entry in current:
        when = str(entry.get("at", ""))[:10]
        label = t(f"relax.rule.{entry['rule']}")
        by, reason = literal(entry.get("by")), literal(entry.get("reason"))  # typed by staff
        st.markdown(f"- {label}: **{entry['value']}** · {by} · {when} · {reason}")
    with st.popover(t("relax.add"), icon=":material/tune:"), st.form(f"relax_form_{search['id']}", border=False):
        rule = st.selectbox(t("relax.rule"), relaxations.RULES, format_func=lambda r: t(f"relax.rule.{r}"))
        value = st.text_input(t("relax.value"), help=t("relax.value_help"))
        reason = st.text_input(t("relax.reason"))
        if st.form_submit_button(t("relax.save"), type="primary"):
            given: Any = value.strip() or relaxations.FIXED_VALUES.get(rule, "")
            run(
                lambda s: matching.relax(
                    s,
                    search_id=search["id"],
                    rule=rule,
                    value=given,
                    reason=reason,
                    actor=user.email,
                    actor_id=user.id,
                    now=datetime.now(UTC),
                ),
                t("relax.saved"),
            )
            st.rerun()
