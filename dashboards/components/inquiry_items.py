"""An inquiry's patients as a table: reference, age, waiting time, chance, distance and the main reasons."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards.i18n import t


def reason_text(failure_code: str, details: dict[str, Any], fallback: str) -> str:
    """Return a filter reason in the UI language (the core's English sentence if a value is missing)."""
    try:
        return t(f"reason.{failure_code}", **details)
    except (KeyError, ValueError, IndexError):
        return fallback


def show(items: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(
        {
            t("proposals.col.patient"): [i["patient_reference"] + (" *" if i["is_exploration"] else "") for i in items],
            t("proposals.col.age"): [i["age"] for i in items],
            t("proposals.col.waiting"): [i["waiting_days"] for i in items],
            t("proposals.col.score"): [f"{(i['score'] or 0) * 100:.0f} %" for i in items],
            t("proposals.col.distance"): [
                "" if i["distance_km"] is None else f"{i['distance_km']:.1f} km" for i in items
            ],
            t("proposals.col.factors"): [
                "; ".join(f.get("sentence") or f.get("code", "") for f in i["factors"][:3]) for i in items
            ],
            t("answers.outcome"): [t(f"outcome.{i['outcome'].value}") for i in items],
        }
    )
    st.table(frame.set_index(t("proposals.col.patient")))
    if any(i["is_exploration"] for i in items):
        st.caption("(*) " + t("proposals.exploration"))
