"""Therapist detail (?id=N): profile with phone hours and practice, status actions, edit form, history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.db import session_scope
from core.errors import NotFound
from core.therapists import overview as overviews
from dashboards import data, formatting
from dashboards.components import (
    communication_timeline,
    match_history,
    therapist_form,
    therapist_profile,
    therapist_status,
)
from dashboards.components.login import require_user
from dashboards.i18n import t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

user = require_user()
back = {"page": page_path("therapists.py"), "label": t("therapists.back"), "icon": ":material/arrow_back:"}
raw_id = st.query_params.get("id", "")
if not (raw_id.isascii() and raw_id.isdigit()):  # isdigit() alone takes "٧" (Arabic-Indic), int() reads 7
    st.info(t("therapists.missing_id"))
    st.page_link(**back)
    st.stop()
try:
    with session_scope(data.engine()) as session:
        view = overviews.overview(session, therapist_id=int(raw_id))
except NotFound:
    st.error(t("therapists.not_found", id=raw_id))
    st.page_link(**back)
    st.stop()

th = view.therapist
st.page_link(**back)
st.title(literal(view.name))  # names are data: shown literally
gender = t(f"therapists.gender.{th['gender']}") if th["gender"] != "unknown" else None
st.caption(" · ".join(filter(None, [t(f"therapists.status.{th['status']}"), view.place, gender])))
flash = st.session_state.pop("therapist_flash", None)
if flash:
    st.success(flash)

profile, status, edit, inquiries, history = st.tabs(
    [
        t("therapists.tab.profile"),
        t("therapists.tab.status"),
        t("therapists.tab.edit"),
        t("history.tab"),
        t("therapists.tab.audit"),
    ],
    key=f"therapist_tabs_{th['id']}",  # a key keeps the open tab across the rerun after an action
)
with profile:
    therapist_profile.show(view=view, today=clock.today())
with status:
    therapist_status.show(view=view, user=user)
with edit:
    if user.role in {"admin", "staff"}:
        therapist_form.show_edit(view=view, user=user)
    else:
        st.caption(t("therapists.action.readonly"))
with inquiries:
    match_history.show(therapist_id=th["id"])
    communication_timeline.show(therapist_id=th["id"])
with history:
    if not view.audit:
        st.caption(t("therapists.audit.empty"))
    else:
        audit = pd.DataFrame(
            {
                t("therapists.audit.when"): [formatting.moment(clock.local(a["occurred_at"])) for a in view.audit],
                t("therapists.audit.who"): [a["actor"] for a in view.audit],
                t("therapists.audit.what"): [a["action"] for a in view.audit],
                t("therapists.audit.fields"): [", ".join(a["fields"]) for a in view.audit],
                t("therapists.audit.reason"): [a["reason"] or "" for a in view.audit],
            }
        )
        st.dataframe(audit, hide_index=True, width="stretch")
