"""The profile tab of a therapist: contact, offer, own preferences, phone hours as a weekly grid, practice."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.contact import display_phone
from core.therapists.overview import TherapistOverview, is_stale
from core.therapists.phone_hours import day_text
from dashboards.i18n import t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

WORKDAYS = range(5)  # the grid always shows Monday to Friday; weekend days only when they have hours


def language_name(code: str) -> str:
    """Return the language's name where the catalog has one, else its ISO code."""
    key = f"therapists.lang.{code}"
    name = t(key)
    return code if name == key else name


def _offer(th: dict) -> None:
    st.subheader(t("therapists.profile.offer"))
    procedures = th["procedures"]
    frame = pd.DataFrame(
        {
            t("therapists.filter.procedure"): [t(f"therapists.procedure.{p['procedure']}") for p in procedures],
            t("therapists.filter.setting"): [t(f"therapists.setting.{p['setting']}") for p in procedures],
            t("therapists.filter.age_group"): [t(f"therapists.age_group.{p['age_group']}") for p in procedures],
        }
    )
    st.table(frame.set_index(t("therapists.filter.procedure")))
    licence = t("therapists.profile.licence_yes" if th["statutory_licence"] else "therapists.profile.licence_no")
    languages = ", ".join(language_name(code) for code in th["languages"])
    st.markdown(t("therapists.profile.languages", languages=languages) + " · " + licence)


def _preferences(th: dict) -> None:
    st.subheader(t("therapists.profile.preferences"))
    low, high = th["pref_age_min"], th["pref_age_max"]
    if low is None and high is None:
        ages = t("therapists.profile.age_any")
    else:
        ages = t("therapists.profile.age_range", low=0 if low is None else low, high=110 if high is None else high)
    codes = ", ".join(th["pref_diagnoses"])
    lines = [
        ages,
        t("therapists.profile.gender", gender=t(f"therapists.pref_gender.{th['pref_patient_gender']}")),
        t("therapists.profile.diagnoses", codes=codes) if codes else t("therapists.profile.diagnoses_any"),
    ]
    st.markdown("  \n".join(lines))


def _hours(th: dict) -> None:
    st.subheader(t("therapists.profile.hours"))
    hours = th["phone_hours"]
    if not hours:
        st.caption(t("therapists.profile.no_hours"))
        return
    days = [day for day in range(7) if day in WORKDAYS or day_text(hours, day)]
    grid = pd.DataFrame(
        {t("therapists.profile.times"): [day_text(hours, day) or "–" for day in days]},
        index=[t(f"therapists.weekday.{day}") for day in days],
    )
    st.table(grid)


def _capacity(th: dict, today: date) -> None:
    answer = {True: "yes", False: "no"}.get(th["accepting_patients"])
    if answer:
        confirmed = f"{th['accepting_confirmed_on']:%d.%m.%Y}" if th["accepting_confirmed_on"] else "–"
        st.markdown(t("therapists.profile.accepting", answer=t(f"therapists.accepting.{answer}"), date=confirmed))
    else:
        st.markdown(t("therapists.profile.accepting_unknown"))
    if answer and is_stale(th["accepting_confirmed_on"], today=today):
        st.caption(t("therapists.profile.accepting_stale"))
    verified = f"{th['last_verified_on']:%d.%m.%Y}" if th["last_verified_on"] else t("therapists.profile.never")
    source = t("therapists.profile.data", source=t(f"therapists.source.{th['source']}"), date=verified)
    location = t("therapists.profile.location", precision=t(f"therapists.precision.{th['location_precision']}"))
    st.caption(f"{source} · {location}")


def _practice(view: TherapistOverview) -> None:
    st.subheader(t("therapists.practice.label"))
    practice = view.practice
    if practice is None:
        st.caption(t("therapists.practice.none"))
        return
    channel = t(f"therapists.practice.channel.{practice.contact_channel}")
    st.page_link(
        page_path("practices.py"),
        query_params={"id": str(practice.id)},
        icon=":material/home_health:",
        label=f"{practice.name} · {channel}",
    )
    if not view.colleagues:
        st.caption(t("therapists.practice.alone"))
        return
    st.caption(t("therapists.practice.colleagues"))
    for colleague in view.colleagues:
        status = t(f"therapists.status.{colleague['status']}")
        st.page_link(
            page_path("therapist.py"),
            query_params={"id": str(colleague["id"])},
            icon=":material/person:",
            label=f"{colleague['name']} · {status}",
        )


def show(*, view: TherapistOverview, today: date) -> None:
    th = view.therapist
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("therapists.profile.contact"))
        lines = [th["street"], view.place, display_phone(th["phone"]), th["email"], th["website"]]
        st.markdown("  \n".join(literal(line) for line in lines if line))  # data, shown literally
        _offer(th)
        _preferences(th)
    with right:
        _hours(th)
        _capacity(th, today)
        _practice(view)
