"""Therapist list: filters, sorting and pagination done in SQL; a row opens the therapist's record."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import ValidationError
from core.therapists.models import AgeGroup, Procedure, Setting, TherapistStatus
from core.therapists.service import SORTS
from dashboards import data
from dashboards.components.login import require_user
from dashboards.i18n import say, t
from dashboards.navigation import page_path

PAGE_SIZE = 50
LANGUAGES = ["de", "en", "tr", "ar", "ru", "pl", "uk", "fa", "fr", "es", "it"]  # the ones 116117 lists most
user = require_user()
head, action = st.columns([3, 1], vertical_alignment="bottom")
head.title(t("therapists.title"))
if user.role in {"admin", "staff"}:
    action.page_link(page_path("therapist_new.py"), label=t("therapists.new"), icon=":material/person_add:")


def choice(column, label: str, options: list[str], text_key: str, key: str) -> str | None:
    """A selectbox whose first entry means "any"; returns None for it."""
    picked = column.selectbox(
        t(label),
        ["", *options],
        key=key,
        format_func=lambda v: t(f"{text_key}.{v}") if v else t("therapists.filter.any"),
    )
    return picked or None


with st.container(border=True):
    c1, c2, c3, c4 = st.columns([3, 1.5, 1.5, 1.5])
    name = c1.text_input(t("therapists.filter.name"), key="therapists_name")
    plz = c2.text_input(t("therapists.filter.plz"), key="therapists_plz", max_chars=5, placeholder="101")
    status = choice(
        c3, "therapists.filter.status", [s.value for s in TherapistStatus], "therapists.status", "therapists_status"
    )
    accepting = choice(
        c4, "therapists.filter.accepting", ["yes", "no", "unknown"], "therapists.accepting", "therapists_accepting"
    )
    c1, c2, c3, c4 = st.columns(4)
    procedure = choice(
        c1, "therapists.filter.procedure", [p.value for p in Procedure], "therapists.procedure", "therapists_procedure"
    )
    setting = choice(
        c2, "therapists.filter.setting", [s.value for s in Setting], "therapists.setting", "therapists_setting"
    )
    age_group = choice(
        c3, "therapists.filter.age_group", [a.value for a in AgeGroup], "therapists.age_group", "therapists_age_group"
    )
    language = choice(c4, "therapists.filter.language", LANGUAGES, "therapists.lang", "therapists_language")
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    sort = c1.selectbox(
        t("therapists.sort"), list(SORTS), format_func=lambda s: t(f"therapists.sort.{s}"), key="therapists_sort"
    )
    descending = c2.toggle(t("therapists.descending"), key="therapists_descending")
    page = c3.number_input(t("therapists.page"), min_value=1, value=1, step=1, key="therapists_page_no")

filters = (procedure, setting, age_group, language, status, accepting, plz.strip() or None, name.strip() or None)
try:
    result = data.therapist_page(filters, sort, descending, int(page), PAGE_SIZE)
except ValidationError as exc:
    st.error(say(exc))
    st.stop()
if not result["rows"]:
    st.info(t("therapists.empty") if any(filters) else t("therapists.empty_db"))
    st.stop()


def offers(procedures: list[dict[str, str]]) -> str:
    """'VT, TP (Gruppe)': each procedure once, marked when group therapy is offered too."""
    names = []
    for code in dict.fromkeys(p["procedure"] for p in procedures):
        group = any(p["procedure"] == code and p["setting"] == "group" for p in procedures)
        names.append(f"{code} ({t('therapists.setting.group')})" if group else code)
    return ", ".join(names)


rows = result["rows"]
accepting_text = {True: "yes", False: "no", None: "unknown"}
frame = pd.DataFrame(
    {
        t("therapists.col.name"): [r.name for r in rows],
        t("therapists.col.postcode"): [r.postcode or "" for r in rows],
        t("therapists.col.city"): [r.city or "" for r in rows],
        t("therapists.col.status"): [t(f"therapists.status.{r.status}") for r in rows],
        t("therapists.col.accepting"): [
            t(f"therapists.accepting.{accepting_text[r.accepting_patients]}") for r in rows
        ],
        t("therapists.col.confirmed"): [
            f"{r.accepting_confirmed_on:%d.%m.%Y}" if r.accepting_confirmed_on else "" for r in rows
        ],
        t("therapists.col.procedures"): [offers(r.procedures) for r in rows],
        t("therapists.col.languages"): [", ".join(r.languages) for r in rows],
    }
)
st.caption(
    t("therapists.page_of", page=result["page"], pages=result["pages"], total=f"{result['total']:,}".replace(",", "."))
    + " · "
    + t("therapists.select_hint")
)
selection = st.dataframe(
    frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="therapists_table"
)
chosen = selection.selection.rows if selection else []
if chosen:
    st.switch_page(page_path("therapist.py"), query_params={"id": str(rows[chosen[0]].id)})
