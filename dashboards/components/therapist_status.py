"""The status tab of a therapist: current status, and a form for each change the status allows now."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core import clock
from core.db import session_scope
from core.errors import WorkbenchError
from core.therapists import service as therapists
from core.therapists.overview import TherapistOverview
from dashboards import data
from dashboards.components.login import CurrentUser
from dashboards.i18n import say, t
from dashboards.plain_text import literal


def _change(view: TherapistOverview, user: CurrentUser, action: str, reason: str, until: date | None) -> None:
    try:
        with session_scope(data.engine()) as session:
            therapists.change_status(
                session,
                therapist_id=view.therapist["id"],
                action=action,
                reason=reason,
                until=until,
                actor=user.email,
                actor_id=user.id,
                today=clock.today(),
                version=view.version,
            )
    except WorkbenchError as exc:
        st.error(say(exc))  # shown inside the action's form, whose input stays
        return
    data.clear_therapists()
    st.session_state["therapist_flash"] = t(f"therapists.action.done.{action}")
    st.rerun()


def show(*, view: TherapistOverview, user: CurrentUser) -> None:
    th = view.therapist
    st.markdown(t("therapists.status.now", status=t(f"therapists.status.{th['status']}")))
    if th["status_reason"]:
        st.markdown(t("therapists.status.reason", reason=literal(th["status_reason"])))
    if th["status_until"]:
        st.markdown(t("therapists.status.until", date=f"{th['status_until']:%d.%m.%Y}"))
    if user.role not in {"admin", "staff"}:
        st.caption(t("therapists.action.readonly"))
        return
    columns = st.columns(len(view.actions))
    for column, action in zip(columns, view.actions, strict=True):
        with column, st.form(f"therapist_{action}", border=True):
            st.markdown(f"**{t(f'therapists.action.{action}')}**")
            reason = st.text_input(t("therapists.action.reason"), key=f"therapist_{action}_reason")
            until = None
            if action == "block":
                until = st.date_input(
                    t("therapists.action.until"),
                    value=None,
                    format="DD.MM.YYYY",
                    min_value=clock.today() + timedelta(days=1),
                    key="therapist_block_until",
                )
            kind = "primary" if action in {"block", "unblock", "reactivate"} else "secondary"
            if st.form_submit_button(t(f"therapists.action.{action}"), type=kind):
                _change(view, user, action, reason, until)
