"""Kapazität melden (public, no login): a therapist reports through the signed link in our inquiry mail.

Deliberately no require_user(): the signed, expiring token in ?token=... is the only credential and names one
therapist; the core (selfservice_capacity) validates, stores the report, refreshes the therapist's dates and
audits it. One column, so it reads on a phone.
"""

from __future__ import annotations

import streamlit as st

from core.communication import selfservice_capacity as capacity
from dashboards.components.selfservice import act, open_link
from dashboards.i18n import t
from dashboards.plain_text import literal

token, view = open_link(page="kapazitaet", title=t("selfservice.capacity.title"), load=capacity.load)
st.markdown(t("selfservice.capacity.intro", name=literal(view.therapist_name)))
if view.last_report:
    answer = t("selfservice.capacity.yes" if view.last_report["accepting"] else "selfservice.capacity.no")
    st.caption(t("selfservice.capacity.current", date=f"{view.last_report['reported_at']:%d.%m.%Y}", answer=answer))
else:
    st.caption(t("selfservice.capacity.never"))

GENDERS = [None, "any", "female", "male"]
with st.form("capacity_form"):
    accepting = st.radio(t("selfservice.capacity.accepting"), [True, False], index=None,
                         format_func=lambda v: t(f"selfservice.capacity.{'yes' if v else 'no'}"))  # fmt: skip
    available_from = st.date_input(t("selfservice.capacity.from"), value=None, format="DD.MM.YYYY")
    hours = st.number_input(t("selfservice.capacity.hours"), min_value=0, max_value=60, value=None, step=1)
    age_min = st.number_input(t("selfservice.capacity.age_min"), min_value=0, max_value=120, value=None, step=1)
    age_max = st.number_input(t("selfservice.capacity.age_max"), min_value=0, max_value=120, value=None, step=1)
    gender = st.selectbox(t("selfservice.capacity.gender"), GENDERS,
                          format_func=lambda g: t(f"selfservice.capacity.gender.{g or 'keep'}"))  # fmt: skip
    note = st.text_area(t("selfservice.capacity.note"), max_chars=2000)
    submitted = st.form_submit_button(t("selfservice.capacity.submit"), type="primary")

if submitted:
    if accepting is None:
        st.error(t("selfservice.capacity.choose"))
        st.stop()
    act("kapazitaet", token, capacity.report, changed=lambda result: result.just_recorded, accepting=accepting,
        available_from=available_from, hours_per_week=hours, pref_age_min=age_min, pref_age_max=age_max,
        pref_patient_gender=gender, note=note)  # fmt: skip
