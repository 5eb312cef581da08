"""Why (not)? Pick a patient and a therapist: every failed rule, distance, travel time, score and its factors."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from sqlalchemy import select

from core.config import get_settings
from core.db import session_scope
from core.matching.explain import why_not
from core.patients.models import Patient
from core.patients.service import current_search
from core.therapists.service import search as find_therapists
from dashboards import data, formatting
from dashboards.components.login import require_user
from dashboards.i18n import nt, say, t

user = require_user()
st.title(t("whynot.title"))
st.caption(t("whynot.help"))
c1, c2 = st.columns(2)
reference = c1.text_input(t("whynot.patient"), key="whynot_patient").strip().upper()
query = c2.text_input(t("whynot.therapist"), key="whynot_therapist")
if not reference or len(query.strip()) < 2:
    st.stop()

with session_scope(data.engine()) as session:
    patient = session.scalar(select(Patient).where(Patient.reference == reference))
    search = current_search(session, patient_id=patient.id) if patient else None
    matches = find_therapists(session, query=query, limit=20)
if patient is None:
    st.error(t("whynot.unknown_patient", reference=reference))
    st.stop()
if search is None:
    st.warning(t("whynot.no_search", reference=reference))
    st.stop()
if not matches:
    st.info(t("quick.none"))
    st.stop()
options = {m["id"]: m for m in matches}
therapist_id = st.selectbox(
    t("whynot.choose_therapist"),
    list(options),
    key="whynot_pick",
    format_func=lambda i: f"{options[i]['name']} · {options[i]['postcode'] or ''} {options[i]['city'] or ''}",
)

with session_scope(data.engine()) as session:
    explanation = why_not(
        session, search_id=search.id, therapist_id=therapist_id, now=datetime.now(UTC), settings=get_settings()
    )

if explanation.passed:
    st.success(t("whynot.passes"))
else:
    st.error(nt("whynot.fails", len(explanation.failures)))
    st.markdown("\n".join(f"- {say(f.sentence)}" for f in explanation.failures))
m1, m2, m3 = st.columns(3)
m1.metric(t("whynot.distance"), formatting.km(explanation.distance_km))
m2.metric(
    t("whynot.travel"),
    "—" if explanation.travel_minutes is None else f"{formatting.number(explanation.travel_minutes, digits=0)} min",
)
m3.metric(t("whynot.score"), formatting.percent(explanation.score))
if explanation.factors:
    st.markdown(f"**{t('whynot.factors')}**")
    st.markdown("\n".join(f"- {say(f.sentence)}" for f in explanation.factors))
if explanation.relaxations:
    st.markdown(f"**{t('whynot.relaxations')}**")
    st.markdown("\n".join(f"- {r}" for r in explanation.relaxations))
if explanation.notes:
    st.caption(t("whynot.notes") + ": " + "; ".join(explanation.notes))
