"""The patient form for create and edit: validates in core, marks every bad field inline, keeps the input.

``show(key=..., initial=..., on_save=...)``: ``on_save(values)`` runs in the submit callback and may raise
a core error; ValidationError.errors are shown under the fields, anything else above the form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from core.contact import display_phone
from core.errors import ValidationError, WorkbenchError
from core.patients import rules
from core.patients.models import Gender, GenderWish, InsuranceType, SettingWish, TransportMode
from core.patients.vocabulary import LANGUAGES, SYMPTOMS
from dashboards.components import form_state
from dashboards.i18n import say, t

PROCEDURES = ["VT", "TP", "AP", "ST"]
DEFAULTS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "gender": "female",
    "birth_date": None,
    "email": "",
    "phone": "",
    "street": "",
    "postcode": "",
    "city": "",
    "insurance_type": "statutory",
    "insurance_name": "",
    "symptoms": [],
    "diagnoses": [],
    "previous_therapy_end": None,
    "two_year_exception": "",
    "availability": [],
    "max_distance_km": 15.0,
    "max_travel_minutes": 0,
    "transport_mode": "transit",
    "therapist_gender_wish": "any",
    "procedure_wishes": [],
    "setting_wish": "individual",
    "languages": ["de"],
    "contact_language": "de",
    "notes": "",
}


EARLIEST_THERAPY_END = date(1900, 1, 1)  # any real date must fit: the widget resets values outside its bounds
DATES = {"birth_date", "previous_therapy_end"}  # optional until typed: an empty date never becomes today
WIDGETS = [f for f in DEFAULTS if f != "availability"] + [f"day{day}" for day in range(7)]


def widget_values(record: dict[str, Any]) -> dict[str, Any]:
    """Return what each widget shows for ``record`` (the empty form for {}), e.g. the phone as dialled."""
    values: dict[str, Any] = {}
    for field, default in DEFAULTS.items():
        value = record.get(field, default)
        value = default if value is None and field not in DATES else value
        if hasattr(value, "value"):
            value = value.value
        if field == "diagnoses":
            value = ", ".join(value or [])
        if field == "phone":
            value = display_phone(value)
        if field == "availability":
            for day in range(7):
                values[f"day{day}"] = rules.format_day_windows(value or [], day)
            continue
        values[field] = value
    return values


def seed(key: str, initial: dict[str, Any]) -> bool:
    """Fill the widgets that have no state; True if the form now shows ``initial`` afresh (see form_state)."""
    return form_state.seed(key, widget_values(initial))


has_draft = form_state.has_draft
reset = form_state.reset


def collect(key: str) -> dict[str, Any]:
    """Return the form's values as core expects them (availability parsed from the weekday fields)."""
    state = st.session_state
    values = {field: state.get(f"{key}_{field}") for field in DEFAULTS if field != "availability"}
    values["diagnoses"] = [c for c in (p.strip() for p in (values["diagnoses"] or "").split(",")) if c]
    values["max_travel_minutes"] = values["max_travel_minutes"] or None
    windows: list[dict[str, Any]] = []
    for day in range(7):
        windows += rules.parse_day_windows(day, state.get(f"{key}_day{day}") or "")
    values["availability"] = windows
    return values


def _submit(key: str, on_save: Callable[[dict[str, Any]], None]) -> None:
    state = st.session_state
    state[f"{key}_errors"] = {}
    state[f"{key}_problem"] = None
    form_state.keep_draft(key, WIDGETS)  # until the save succeeds
    try:
        on_save(collect(key))
    except ValidationError as exc:
        # a possible duplicate is no mistake in a field: the page shows the candidates instead
        if exc.field != "duplicate":
            state[f"{key}_errors"] = exc.errors or {"_form": exc.message}
        state[f"{key}_problem"] = exc
    except WorkbenchError as exc:
        state[f"{key}_problem"] = exc


def _error(key: str, field: str) -> None:
    message = st.session_state.get(f"{key}_errors", {}).get(field)
    if message:
        st.markdown(f":red[{say(message)}]")


def show(*, key: str, initial: dict[str, Any] | None, on_save: Callable[[dict[str, Any]], None], today: date) -> None:
    """Render the form; on submit call ``on_save`` with the collected values."""
    seed(key, initial or {})
    errors = st.session_state.get(f"{key}_errors") or {}
    if errors:
        st.error(t("form.errors"))
        if "_form" in errors:
            st.error(say(errors["_form"]))
    options = _options()
    # no st.form: its widgets reach the server only on submit, and typed input is kept as it is typed
    # (dashboards/components/form_drafts.py), so that a reload does not lose it
    with st.container(border=True, key=f"{key}_form"):
        st.subheader(t("form.section.person"))
        c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
        with c1:
            st.text_input(t("form.first_name") + " *", key=f"{key}_first_name")
            _error(key, "first_name")
        with c2:
            st.text_input(t("form.last_name") + " *", key=f"{key}_last_name")
            _error(key, "last_name")
        with c3:
            st.selectbox(
                t("form.gender"), options["gender"], format_func=lambda v: t(f"gender.{v}"), key=f"{key}_gender"
            )
        with c4:
            st.date_input(
                t("form.birth_date") + " *",
                value=None,  # empty until typed; core names a date in the future instead of the widget refusing it
                key=f"{key}_birth_date",
                format="DD.MM.YYYY",
                min_value=date(today.year - rules.MAX_AGE_YEARS - 1, 1, 1),
            )
            _error(key, "birth_date")
        st.subheader(t("form.section.contact"))
        c1, c2 = st.columns(2)
        with c1:
            st.text_input(t("form.email"), key=f"{key}_email", placeholder="name@example.org")
            _error(key, "email")
        with c2:
            st.text_input(t("form.phone"), key=f"{key}_phone", placeholder="030 1234567")
            _error(key, "phone")
        c1, c2, c3 = st.columns([4, 1, 2])
        with c1:
            st.text_input(t("form.street"), key=f"{key}_street")
        with c2:
            st.text_input(t("form.postcode") + " *", key=f"{key}_postcode", max_chars=5, placeholder="10115")
            _error(key, "postcode")
        with c3:
            st.text_input(t("form.city"), key=f"{key}_city")
        st.subheader(t("form.section.health"))
        c1, c2 = st.columns(2)
        with c1:
            st.selectbox(
                t("form.insurance_type"),
                options["insurance_type"],
                format_func=lambda v: t(f"insurance.{v}"),
                key=f"{key}_insurance_type",
            )
            st.multiselect(t("form.symptoms"), SYMPTOMS, key=f"{key}_symptoms", placeholder=t("select.placeholder"))
            st.date_input(
                t("form.previous_therapy_end"),
                value=None,  # optional: a date nobody typed would start the 2-year rule
                key=f"{key}_previous_therapy_end",
                format="DD.MM.YYYY",
                min_value=EARLIEST_THERAPY_END,
            )
            _error(key, "previous_therapy_end")
        with c2:
            st.text_input(t("form.insurance_name"), key=f"{key}_insurance_name")
            st.text_input(t("form.diagnoses"), key=f"{key}_diagnoses", placeholder=t("form.diagnoses_help"))
            _error(key, "diagnoses")
            st.text_input(t("form.two_year_exception"), key=f"{key}_two_year_exception")
        st.subheader(t("form.section.availability"))
        st.caption(t("form.availability_help"))
        columns = st.columns(7)
        for day, column in enumerate(columns):
            with column:
                st.text_input(t(f"weekday.{day}"), key=f"{key}_day{day}", placeholder="08:00-12:00")
        _error(key, "availability")
        st.subheader(t("form.section.wishes"))
        c1, c2, c3 = st.columns(3)
        with c1:
            st.number_input(
                t("form.max_distance_km"),
                min_value=1.0,
                max_value=200.0,
                step=1.0,
                key=f"{key}_max_distance_km",
                format="%.0f",
            )
            st.number_input(
                t("form.max_travel_minutes"), min_value=0, max_value=240, step=5, key=f"{key}_max_travel_minutes"
            )
            _error(key, "max_travel_minutes")
            st.selectbox(
                t("form.transport_mode"),
                options["transport_mode"],
                format_func=lambda v: t(f"transport.{v}"),
                key=f"{key}_transport_mode",
            )
        with c2:
            st.selectbox(
                t("form.therapist_gender_wish"),
                options["therapist_gender_wish"],
                format_func=lambda v: t(f"gender_wish.{v}"),
                key=f"{key}_therapist_gender_wish",
            )
            st.multiselect(
                t("form.procedure_wishes"),
                PROCEDURES,
                key=f"{key}_procedure_wishes",
                placeholder=t("select.placeholder"),
            )
            st.selectbox(
                t("form.setting_wish"),
                options["setting_wish"],
                format_func=lambda v: t(f"setting.{v}"),
                key=f"{key}_setting_wish",
            )
        with c3:
            st.multiselect(
                t("form.languages"),
                list(LANGUAGES),
                format_func=LANGUAGES.__getitem__,
                key=f"{key}_languages",
                placeholder=t("select.placeholder"),
            )
            st.selectbox(
                t("form.contact_language"),
                ["de", "en"],
                format_func={"de": "Deutsch", "en": "English"}.get,
                key=f"{key}_contact_language",
            )
        st.text_area(t("form.notes"), key=f"{key}_notes", height=80)
        st.button(
            t("form.save"),
            key=f"{key}_save",
            type="primary",
            on_click=_submit,
            args=(key, on_save),
            icon=":material/save:",
        )


def _options() -> dict[str, list[str]]:
    return {
        "gender": [g.value for g in Gender],
        "insurance_type": [i.value for i in InsuranceType],
        "transport_mode": [m.value for m in TransportMode],
        "therapist_gender_wish": [g.value for g in GenderWish],
        "setting_wish": [s.value for s in SettingWish],
    }


def problem(key: str) -> WorkbenchError | None:
    """Return the last save's core error (ValidationError subclasses included), if any."""
    return st.session_state.get(f"{key}_problem")
