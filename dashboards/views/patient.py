"""Patient detail (?id=N): header, consent and search actions, tabs for profile, wishes, history, mail, audit."""

from __future__ import annotations

import streamlit as st

from core import clock
from core.db import session_scope
from core.errors import NotFound
from core.patients import overview as patient_overview
from core.patients import service as patients
from dashboards import data
from dashboards.components import (
    availability_grid,
    communication_timeline,
    patient_actions,
    patient_calls,
    patient_edit,
    patient_history,
    patient_nearby,
    workflow_path,
)
from dashboards.components.login import require_user
from dashboards.i18n import t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

user = require_user()
raw_id = st.query_params.get("id", "")
if not (raw_id.isascii() and raw_id.isdigit()):  # isdigit() alone takes "٧" (Arabic-Indic), int() reads 7
    st.info(t("patient.missing_id"))
    st.page_link(page_path("patients.py"), label=t("patient.back"), icon=":material/arrow_back:")
    st.stop()
patient_id = int(raw_id)
today = clock.today()

try:
    with session_scope(data.engine()) as session:
        viewed = st.session_state.setdefault("patients_viewed", set())
        if patient_id not in viewed:  # one audit row per opening, not per click inside the page
            patients.open_record(session, patient_id=patient_id, actor=user.email, actor_id=user.id)
            viewed.add(patient_id)
        view = patient_overview.overview(session, patient_id=patient_id, today=today, history=False)  # tabs 3, 5
except NotFound:
    st.error(t("patient.not_found", id=patient_id))
    st.page_link(page_path("patients.py"), label=t("patient.back"), icon=":material/arrow_back:")
    st.stop()

p = view.patient
st.page_link(page_path("patients.py"), label=t("patient.back"), icon=":material/arrow_back:")
st.title(literal(f"{p['first_name']} {p['last_name']}"))  # names are data: shown literally
status = t(f"patient.status.{p['status'].value}")
facts = [p["reference"], status, t("patient.age", age=view.age), f"{p['postcode']} {p['city'] or ''}".strip()]
if view.waiting_days is not None:
    facts.append(t("patient.waiting", days=view.waiting_days))
st.caption(" · ".join(facts))
workflow_path.show(patient_id=patient_id, today=today)
flash = st.session_state.pop("patient_flash", None)
if flash:
    st.success(flash)
if p["erased_at"]:
    st.warning(t("patient.erased", date=f"{clock.local(p['erased_at']):%d.%m.%Y}"))
else:
    patient_calls.show_phone_flag(patient_id=patient_id)

tabs = st.tabs(
    [
        t("patient.tab.profile"),
        t("patient.tab.preferences"),
        t("patient.tab.map"),
        t("patient.tab.history"),
        t("patient.tab.communication"),
        t("patient.tab.audit"),
        t("patient.tab.edit"),
        t("pcalls.tab"),
    ],
    key=f"patient_tabs_{patient_id}",  # a key keeps the open tab across the rerun after an action
    on_change="rerun",  # lazy: only the open tab runs (its queries and widgets); opening another one reruns
)
with tabs[0]:
    if tabs[0].open:
        patient_actions.show(view=view, user=user, today=today)
with tabs[1]:
    if tabs[1].open:
        patient_history.show_wishes(p)
        availability_grid.show(p["availability"], weekly_hours=p["weekly_hours"])
with tabs[2]:
    if tabs[2].open:
        patient_nearby.show(p, search_id=view.search["id"] if view.search else None)
with tabs[3]:
    if tabs[3].open:
        with session_scope(data.engine()) as session:
            events = patient_overview.timeline(session, patient_id=patient_id)
        patient_history.show_timeline(events)
with tabs[4]:
    if tabs[4].open:
        communication_timeline.show(patient_id=p["id"])
with tabs[5]:
    if tabs[5].open:
        with session_scope(data.engine()) as session:
            trail = patient_overview.audit_trail(session, patient_id=patient_id)
        patient_history.show_audit(trail)
with tabs[6]:
    if tabs[6].open:
        patient_edit.show(view=view, user=user, today=today)
with tabs[7]:
    if tabs[7].open:
        patient_calls.show(patient_id=patient_id, user=user, today=today, erased=bool(p["erased_at"]))
