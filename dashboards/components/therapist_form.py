"""The therapist form for create and edit: validates in core, marks every bad field inline, keeps the input.

``show(key=..., initial=..., on_save=...)``: ``on_save(values)`` runs in the submit callback and may raise a
core error; ValidationError.errors appear under the fields, any other core error above the form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import product
from typing import Any

import streamlit as st

from core import clock
from core.contact import display_phone
from core.db import session_scope
from core.errors import ConcurrentEdit, ValidationError, WorkbenchError
from core.patients.models import Gender, GenderWish
from core.therapists import service as therapists
from core.therapists.models import AgeGroup, Procedure, Setting, TherapistSource
from core.therapists.overview import TherapistOverview
from core.therapists.phone_hours import format_phone_hours
from dashboards import data
from dashboards.components import form_state
from dashboards.components.login import CurrentUser
from dashboards.i18n import say, t

OFFERS = [
    " ".join(parts)
    for parts in product([p.value for p in Procedure], [s.value for s in Setting], [a.value for a in AgeGroup])
]
ACCEPTING = {"unknown": None, "yes": True, "no": False}
EARLIEST_DATE = date(1900, 1, 1)  # wide enough for every stored date: the widget resets values outside its bounds
DEFAULTS: dict[str, Any] = {
    "title": "",
    "first_name": "",
    "last_name": "",
    "gender": "unknown",
    "street": "",
    "postcode": "",
    "city": "",
    "phone": "",
    "email": "",
    "website": "",
    "procedures": [],
    "languages": "de",
    "phone_hours": "",
    "pref_age_min": None,
    "pref_age_max": None,
    "pref_patient_gender": "any",
    "pref_diagnoses": "",
    "statutory_licence": True,
    "accepting_patients": "unknown",
    "accepting_confirmed_on": None,
    "source": "manual",
    "last_verified_on": None,
    "notes": "",
}


def offer_label(offer: str) -> str:
    """'VT group adults' -> 'VT · Gruppe · Erwachsene'."""
    procedure, setting, age_group = offer.split()
    return f"{procedure} · {t(f'therapists.setting.{setting}')} · {t(f'therapists.age_group.{age_group}')}"


def _widget_value(field: str, value: Any) -> Any:
    """Turn a stored value into what the widget holds."""
    if field == "procedures":
        return [f"{p['procedure']} {p['setting']} {p['age_group']}" for p in value or []]
    if field == "languages":
        return ", ".join(value or [])
    if field == "pref_diagnoses":
        return ", ".join(value or [])
    if field == "phone_hours":
        return format_phone_hours(value or {})
    if field == "accepting_patients":
        return {None: "unknown", True: "yes", False: "no"}[value]
    if field == "phone":
        return display_phone(value)  # as staff dial it; core stores E.164 again
    return value


def widget_values(record: dict[str, Any]) -> dict[str, Any]:
    """Return what each widget shows for ``record`` (the empty form for {}); empty dates stay empty."""
    values = {}
    for field, default in DEFAULTS.items():
        value = _widget_value(field, record[field]) if field in record else default
        values[field] = default if value is None else value
    return values


def seed(key: str, initial: dict[str, Any]) -> bool:
    """Fill the widgets that have no state; True if the form now shows ``initial`` afresh (see form_state)."""
    return form_state.seed(key, widget_values(initial))


has_draft = form_state.has_draft
reset = form_state.reset


def collect(key: str) -> dict[str, Any]:
    """Return the form's values as core expects them."""
    values = {field: st.session_state.get(f"{key}_{field}") for field in DEFAULTS}
    values["accepting_patients"] = ACCEPTING[values["accepting_patients"] or "unknown"]
    return values


def problem(key: str) -> WorkbenchError | None:
    """Return the last save's core error, if any (PossibleDuplicate and ConcurrentEdit included)."""
    return st.session_state.get(f"{key}_problem")


def submit(key: str, on_save: Callable[[dict[str, Any]], None]) -> None:
    """Save the form's current values through ``on_save``; keep any core error for the next run."""
    st.session_state[f"{key}_errors"] = {}
    st.session_state[f"{key}_problem"] = None
    form_state.keep_draft(key, DEFAULTS)  # until the save succeeds, across pages too
    try:
        on_save(collect(key))
    except ValidationError as exc:
        st.session_state[f"{key}_errors"] = exc.errors if exc.errors and exc.field != "duplicate" else {}
        st.session_state[f"{key}_problem"] = exc
    except WorkbenchError as exc:
        st.session_state[f"{key}_problem"] = exc


def _error(key: str, field: str) -> None:
    message = (st.session_state.get(f"{key}_errors") or {}).get(field)
    if message:
        st.markdown(f":red[{say(message)}]")


def _text(key: str, field: str, *, required: bool = False, **kwargs: Any) -> None:
    label = t(f"therapists.form.{field}") + (" *" if required else "")
    st.text_input(label, key=f"{key}_{field}", **kwargs)
    _error(key, field)


def _choice(key: str, field: str, options: list[str], prefix: str) -> None:
    st.selectbox(t(f"therapists.form.{field}"), options, format_func=lambda v: t(f"{prefix}.{v}"), key=f"{key}_{field}")
    _error(key, field)


def show(
    *, key: str, initial: dict[str, Any] | None, on_save: Callable[[dict[str, Any]], None], submit_label: str
) -> None:
    """Render the form; on submit call ``on_save`` with the collected values."""
    seed(key, initial or {})
    errors = st.session_state.get(f"{key}_errors") or {}
    # no st.form: its widgets reach the server only on submit, and typed input is kept as it is typed
    # (dashboards/components/form_drafts.py), so that a reload does not lose it
    with st.container(border=True, key=f"{key}_form"):
        st.subheader(t("therapists.form.section.person"))
        c1, c2, c3, c4 = st.columns([1.5, 3, 3, 2])
        with c1:
            _text(key, "title", placeholder="Dr.")
        with c2:
            _text(key, "first_name", required=True)
        with c3:
            _text(key, "last_name", required=True)
        with c4:
            _choice(key, "gender", [g.value for g in Gender], "therapists.gender")
        st.subheader(t("therapists.form.section.contact"))
        c1, c2, c3 = st.columns([4, 1.3, 2.5])
        with c1:
            _text(key, "street", placeholder="Lindenstraße 4")
        with c2:
            _text(key, "postcode", required=True, max_chars=5, placeholder="10115")
        with c3:
            _text(key, "city")
        c1, c2, c3 = st.columns(3)
        with c1:
            _text(key, "phone", placeholder="030 1234567")
        with c2:
            _text(key, "email", placeholder="praxis@example.org")
        with c3:
            _text(key, "website", placeholder="https://www.praxis-beispiel.de")
        st.subheader(t("therapists.form.section.offer"))
        c1, c2 = st.columns([3, 2])
        with c1:
            st.multiselect(
                t("therapists.form.procedures") + " *",
                OFFERS,
                format_func=offer_label,
                key=f"{key}_procedures",
                placeholder=t("therapists.form.procedures_placeholder"),
            )
            _error(key, "procedures")
            _text(key, "languages", placeholder="de, en")
        with c2:
            st.text_area(
                t("therapists.form.phone_hours"),
                key=f"{key}_phone_hours",
                height=110,
                placeholder=t("therapists.form.phone_hours_help"),
            )
            _error(key, "phone_hours")
        st.subheader(t("therapists.form.section.preferences"))
        c1, c2, c3, c4 = st.columns([1.3, 1.3, 2, 3])
        with c1:
            st.number_input(
                t("therapists.form.pref_age_min"),
                value=None,  # no preference until typed
                min_value=0,
                max_value=110,
                step=1,
                key=f"{key}_pref_age_min",
            )
            _error(key, "pref_age_min")
        with c2:
            st.number_input(
                t("therapists.form.pref_age_max"),
                value=None,
                min_value=0,
                max_value=110,
                step=1,
                key=f"{key}_pref_age_max",
            )
            _error(key, "pref_age_max")
        with c3:
            _choice(key, "pref_patient_gender", [g.value for g in GenderWish], "therapists.pref_gender")
        with c4:
            _text(key, "pref_diagnoses", placeholder=t("therapists.form.pref_diagnoses_help"))
        st.subheader(t("therapists.form.section.data"))
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            _choice(key, "accepting_patients", list(ACCEPTING), "therapists.accepting")
            st.checkbox(t("therapists.form.statutory_licence"), key=f"{key}_statutory_licence")
        with c2:
            st.date_input(
                t("therapists.form.accepting_confirmed_on"),
                value=None,  # empty until typed: a date nobody entered would claim a check that never happened
                key=f"{key}_accepting_confirmed_on",
                format="DD.MM.YYYY",
                min_value=EARLIEST_DATE,
            )
            _error(key, "accepting_confirmed_on")
        with c3:
            _choice(key, "source", [s.value for s in TherapistSource], "therapists.source")
        with c4:
            st.date_input(
                t("therapists.form.last_verified_on"),
                value=None,  # empty until typed: a date nobody entered would claim a check that never happened
                key=f"{key}_last_verified_on",
                format="DD.MM.YYYY",
                min_value=EARLIEST_DATE,
            )
            _error(key, "last_verified_on")
        st.text_area(t("therapists.form.notes"), key=f"{key}_notes", height=80)
        st.button(
            submit_label, key=f"{key}_save", type="primary", on_click=submit, args=(key, on_save),
            icon=":material/save:",
        )  # fmt: skip
        if errors:  # next to the button the user just pressed; the fields themselves say what is wrong
            st.error(t("therapists.form.errors"))
            if "_form" in errors:
                st.error(say(errors["_form"]))


def show_edit(*, view: TherapistOverview, user: CurrentUser) -> None:
    """The edit tab: the form on the record's values; a stale form is refused, naming what changed meanwhile."""
    key = f"edit_therapist_{view.therapist['id']}"
    # the version and values the form shows, taken whenever it is filled from the record (see patient_edit)
    if seed(key, view.editable) or f"{key}__lock" not in st.session_state:
        st.session_state[f"{key}__lock"] = {"version": view.version, "original": view.editable}
    lock = st.session_state[f"{key}__lock"]

    def save(values: dict[str, Any]) -> None:
        with session_scope(data.engine()) as session:
            therapists.update(
                session,
                therapist_id=view.therapist["id"],
                version=lock["version"],
                original=lock["original"],
                changes=values,
                actor=user.email,
                actor_id=user.id,
                today=clock.today(),
            )
        reset(key)
        data.clear_therapists()
        st.session_state["therapist_flash"] = t("therapists.saved")

    failed = problem(key)
    if isinstance(failed, ConcurrentEdit):
        fields = ", ".join(t(f"therapists.form.{field}") for field in failed.fields) or "–"
        st.error(t("therapists.form.conflict", fields=fields))
    if has_draft(key) and st.button(t("therapists.form.reload"), key=f"{key}_reload", icon=":material/refresh:"):
        reset(key)
        st.rerun()
    show(key=key, initial=view.editable, on_save=save, submit_label=t("therapists.form.save"))
