"""A therapist's match history: every inquiry item, newest first, with the answer."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.db import session_scope
from core.matching.queries import match_history
from dashboards import data, formatting
from dashboards.i18n import t


def show(*, therapist_id: int) -> None:
    with session_scope(data.engine()) as session:
        rows = match_history(session, therapist_id=therapist_id)
    if not rows:
        st.info(t("history.empty"))
        return
    frame = pd.DataFrame(
        {
            t("history.when"): [f"{clock.local(r['sent_at'] or r['created_at']):%d.%m.%Y}" for r in rows],
            t("history.inquiry"): [r["reference"] for r in rows],
            t("history.status"): [t(f"inquiry.status.{r['inquiry_status'].value}") for r in rows],
            t("proposals.col.patient"): [r["patient_reference"] for r in rows],
            t("answers.outcome"): [t(f"outcome.{r['outcome'].value}") for r in rows],
            t("proposals.col.distance"): [
                "" if r["distance_km"] is None else formatting.km(r["distance_km"]) for r in rows
            ],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")
