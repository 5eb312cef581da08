"""Create a patient: inline validation, duplicate warning, then on to the new record."""

from __future__ import annotations

import streamlit as st

from core import clock
from core.db import session_scope
from core.patients import service as patients
from dashboards import data
from dashboards.components import form_drafts, patient_form
from dashboards.components.login import require_user
from dashboards.i18n import t
from dashboards.navigation import page_path

KEY = "new_patient"
FORM = "patient_new"  # the draft's key on the server (core.drafts)
user = require_user()
st.title(t("patient.new_title"))

created = st.session_state.pop("patient_created", None)
if created:
    st.session_state["patient_flash"] = t("patient.created", reference=created[1])
    st.switch_page(page_path("patient.py"), query_params={"id": str(created[0])})


def save(values: dict) -> None:
    allow = bool(st.session_state.get("new_patient_confirm_duplicate"))
    with session_scope(data.engine()) as session:
        patient = patients.create(
            session, data=values, actor=user.email, actor_id=user.id, today=clock.today(), allow_duplicate=allow
        )
        form_drafts.discard(session, form_key=FORM, user=user)
        created = (patient.id, patient.reference)
    patient_form.reset(KEY)
    data.clear_patients()
    st.session_state["patient_created"] = created


form_drafts.restore(key=KEY, form_key=FORM, user=user, names=patient_form.WIDGETS)
form_drafts.notice(key=KEY, form_key=FORM, user=user)
problem = patient_form.problem(KEY)
if isinstance(problem, patients.PossibleDuplicate):
    st.warning(t("form.duplicate"))
    for candidate in problem.candidates:
        reasons = ", ".join(t(f"form.duplicate_reason.{r}") for r in candidate.reasons)
        st.page_link(
            page_path("patient.py"),
            query_params={"id": str(candidate.id)},
            icon=":material/person:",
            label=f"{candidate.reference} · {candidate.name} · {candidate.birth_date:%d.%m.%Y} · "
            f"{candidate.postcode} ({reasons})",
        )
    st.checkbox(t("form.duplicate_confirm"), key="new_patient_confirm_duplicate")

# the input of a failed save stays (across pages too) until it is saved or dropped here
if patient_form.has_draft(KEY) and st.button(t("form.discard"), key="new_patient__discard", icon=":material/delete:"):
    form_drafts.drop(key=KEY, form_key=FORM, user=user)
    st.rerun()
patient_form.show(key=KEY, initial=None, on_save=save, today=clock.today())
UNTOUCHED = patient_form.widget_values({})
form_drafts.remember(key=KEY, form_key=FORM, user=user, names=patient_form.WIDGETS, empty=UNTOUCHED)
