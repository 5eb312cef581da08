"""Patient list: filters, sorting and server-side pagination; a row opens the patient's record."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.errors import ValidationError
from core.patients.models import InsuranceType, PatientStatus
from core.patients.queries import SORTS
from dashboards import data
from dashboards.components import read_audit
from dashboards.components.login import require_user
from dashboards.i18n import say, t
from dashboards.navigation import STAFF_ROLES, page_path

PAGE_SIZE = 50
FILTER_NAMES = ("text", "postcode", "status", "insurance", "waiting")
user = require_user()
head, action = st.columns([3, 1], vertical_alignment="bottom")
head.title(t("patients.title"))
if user.role in STAFF_ROLES:  # managers look, staff record
    action.page_link(page_path("patient_new.py"), label=t("patients.new"), icon=":material/person_add:")

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([3, 1.4, 2.6, 2.2, 1.6])
    text = c1.text_input(t("patients.filter.text"), key="patients_text")
    prefix = c2.text_input(t("patients.filter.postcode"), key="patients_prefix", max_chars=5)
    statuses = c3.multiselect(
        t("patients.filter.status"),
        [s.value for s in PatientStatus],
        format_func=lambda v: t(f"patient.status.{v}"),
        key="patients_status",
        placeholder=t("select.placeholder"),
    )
    insurances = c4.multiselect(
        t("patients.filter.insurance"),
        [i.value for i in InsuranceType],
        format_func=lambda v: t(f"insurance.{v}"),
        key="patients_insurance",
        placeholder=t("select.placeholder"),
    )
    waiting = c5.number_input(t("patients.filter.waiting"), min_value=0, step=7, value=None, key="patients_waiting")
    c1, c2 = st.columns([3, 1])
    sort = c1.selectbox(
        t("patients.sort"), list(SORTS), format_func=lambda s: t(f"patients.sort.{s}"), key="patients_sort"
    )
    page = c2.number_input(t("patients.page"), min_value=1, value=1, step=1, key="patients_page_no")

filters = (text, prefix, tuple(statuses), tuple(insurances), waiting)
try:
    result = data.patient_page(filters, sort, int(page), PAGE_SIZE, clock.today())
except ValidationError as exc:
    st.error(t("patients.bad_filter", problem=say(exc)))
    st.stop()
if not result["rows"]:
    st.info(t("patients.empty") if any([text, prefix, statuses, insurances, waiting]) else t("patients.empty_db"))
    st.stop()

used = [name for name, value in zip(FILTER_NAMES, filters, strict=True) if value]  # which, never their values
read_audit.record(
    user,
    what="patient_list",
    page="patients",
    references=[r["reference"] for r in result["rows"]],
    details={"list_page": result["page"], "filters": used, "sort": sort},
)
st.caption(t("patients.page_of", page=result["page"], pages=result["pages"], total=result["total"]))
frame = pd.DataFrame(
    {
        t("patients.col.reference"): [r["reference"] for r in result["rows"]],
        t("patients.col.name"): [f"{r['last_name']}, {r['first_name']}" for r in result["rows"]],
        t("patients.col.postcode"): [r["postcode"] for r in result["rows"]],
        t("patients.col.city"): [r["city"] or "" for r in result["rows"]],
        t("patients.col.status"): [t(f"patient.status.{r['status'].value}") for r in result["rows"]],
        t("patients.col.insurance"): [
            t(f"insurance.{r['insurance_type'].value}") if r["insurance_type"] else "" for r in result["rows"]
        ],
        t("patients.col.search"): [
            t(f"search.status.{r['search_status'].value}") if r["search_status"] else "" for r in result["rows"]
        ],
        t("patients.col.waiting"): [
            "" if r["waiting_days"] is None else str(r["waiting_days"]) for r in result["rows"]
        ],
    }
)
selection = st.dataframe(
    frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="patients_table"
)
chosen = selection.selection.rows if selection else []
if chosen:
    st.switch_page(page_path("patient.py"), query_params={"id": str(result["rows"][chosen[0]]["id"])})
