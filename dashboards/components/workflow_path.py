"""The patient's path (registered -> consents -> search -> inquiries -> answers -> placement) as one row.

Usage on the patient page: ``workflow_path.show(patient_id=p["id"], today=today)``.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.db import session_scope
from core.operations import workflow
from dashboards import data
from dashboards.i18n import t


def days_text(days: int) -> str:
    """'1 Tag' / '5 Tage' in the user's language."""
    return t("workflow.day") if days == 1 else t("workflow.days", days=days)


def step_text(step: workflow.Step) -> str:
    """One step as Markdown: the name (bold if current), when it was reached and the days spent in it."""
    name = t(f"workflow.step.{step.name}")
    if step.reached_on is None:
        return f"{name}  \n{t('workflow.pending')}"
    when = t("workflow.since" if step.current else "workflow.on", date=f"{step.reached_on:%d.%m.%Y}")
    if step.current:
        return f"**:material/arrow_right: {name}** ({t('workflow.current')})  \n{when} · {days_text(step.days)}"
    return f":material/check: {name}  \n{when} · {days_text(step.days)}"


def show(*, patient_id: int, today: date) -> None:
    """Show the patient's path with the current step marked and the days spent in each step."""
    with session_scope(data.engine()) as session:
        steps = workflow.patient_path(session, patient_id=patient_id, today=today)
    with st.container(border=True):
        st.caption(t("workflow.title"))
        for column, step in zip(st.columns(len(steps)), steps, strict=True):
            column.markdown(step_text(step))
