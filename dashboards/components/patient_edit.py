"""The edit tab: the patient form on the record's current values; a stale form is refused, naming what changed.

The version and values the form showed (``{key}__lock``) are taken whenever the form is filled from the record,
so a second visit shows today's record, while the input of a failed save comes back with the version it was
typed against (and a save then names what someone else changed meanwhile).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.db import session_scope
from core.errors import ConcurrentEdit
from core.patients import service as patients
from core.patients.overview import PatientOverview
from dashboards import data
from dashboards.components import form_drafts, patient_form
from dashboards.components.login import CurrentUser
from dashboards.i18n import t


def show(*, view: PatientOverview, user: CurrentUser, today: date) -> None:
    key, form = f"edit_patient_{view.patient['id']}", f"patient_edit:{view.patient['id']}"
    restored = form_drafts.restore(key=key, form_key=form, user=user, names=patient_form.WIDGETS)
    if restored and restored.get("lock"):  # the input comes back with the version it was typed against
        st.session_state[f"{key}__lock"] = restored["lock"]
    if patient_form.seed(key, view.patient) or f"{key}__lock" not in st.session_state:
        st.session_state[f"{key}__lock"] = {
            "version": view.version,
            "original": {f: view.patient[f] for f in patients.EDITABLE_FIELDS},
        }
    lock = st.session_state[f"{key}__lock"]

    def save(values: dict) -> None:
        with session_scope(data.engine()) as session:
            patients.update(
                session,
                patient_id=view.patient["id"],
                version=lock["version"],
                original=lock["original"],
                changes=values,
                actor=user.email,
                actor_id=user.id,
                today=today,
            )
            form_drafts.discard(session, form_key=form, user=user)
        patient_form.reset(key)
        data.clear_patients()
        st.session_state["patient_flash"] = t("patient.saved")

    form_drafts.notice(key=key, form_key=form, user=user)
    problem = patient_form.problem(key)
    if isinstance(problem, ConcurrentEdit):
        labels = ", ".join(t(f"form.{f}") for f in problem.fields) or "—"
        st.error(t("form.conflict", fields=labels))
    # the input of a failed save stays (across pages too) until it is saved or dropped with this button
    if patient_form.has_draft(key) and st.button(t("form.reload"), key=f"{key}_reload", icon=":material/refresh:"):
        form_drafts.drop(key=key, form_key=form, user=user)
        st.rerun()
    patient_form.show(key=key, initial=view.patient, on_save=save, today=today)
    shown = patient_form.widget_values({**view.patient, **lock["original"]})  # the record as the form opened
    form_drafts.remember(key=key, form_key=form, user=user, names=patient_form.WIDGETS, empty=shown,
                         extra={"lock": lock})  # fmt: skip
