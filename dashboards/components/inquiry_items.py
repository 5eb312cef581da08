"""An inquiry's patients as a table: reference, age, waiting time, chance, distance and the main reasons."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.messages import restore
from dashboards import formatting
from dashboards.i18n import say, t


def factor_text(factor: dict[str, Any]) -> str:
    """Return one stored score factor in the UI language (its English sentence if it has no message code)."""
    code = factor.get("message") or f"factor.{factor.get('code', '')}"
    return say(restore(code, factor.get("sentence") or factor.get("code", ""), factor.get("params")))


def show(items: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(
        {
            t("proposals.col.patient"): [i["patient_reference"] + (" *" if i["is_exploration"] else "") for i in items],
            t("proposals.col.age"): [i["age"] for i in items],
            t("proposals.col.waiting"): [i["waiting_days"] for i in items],
            t("proposals.col.score"): [formatting.percent(i["score"] or 0) for i in items],
            t("proposals.col.distance"): [
                "" if i["distance_km"] is None else formatting.km(i["distance_km"]) for i in items
            ],
            t("proposals.col.factors"): ["; ".join(factor_text(f) for f in i["factors"][:3]) for i in items],
            t("answers.outcome"): [t(f"outcome.{i['outcome'].value}") for i in items],
        }
    )
    st.table(frame.set_index(t("proposals.col.patient")))
    if any(i["is_exploration"] for i in items):
        st.caption("(*) " + t("proposals.exploration"))
