"""The map tab of a patient: the patient, the search radius and the therapists nearby, nearest listed below."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from core.config import get_settings
from core.db import session_scope
from core.geo.service import therapists_near
from core.matching.candidate_list import failed_rules
from dashboards import data, formatting
from dashboards.components.maps import patient_map
from dashboards.i18n import nt, t
from dashboards.navigation import page_path

DEFAULT_RADIUS_KM = 15.0  # when the patient has not said how far they can travel
SHOWN_BEYOND = 1.5  # draw therapists up to 1.5 x the radius, so staff see who is just outside


def _with_rules(frame: pd.DataFrame, search_id: int | None) -> pd.DataFrame:
    """Add pass/fail and the failed rules in words, when the patient has an open search."""
    if search_id is None or frame.empty:
        return frame
    with session_scope(data.engine()) as session:
        rules = failed_rules(
            session,
            search_id=search_id,
            now=datetime.now(UTC),
            settings=get_settings(),
            therapists=dict(zip(frame["id"].astype(int), frame["distance_km"], strict=True)),
        )
    failed = [rules.get(int(i), ["therapist_inactive"]) for i in frame["id"]]
    return frame.assign(
        passes=[not f for f in failed],
        reasons=["; ".join(t(f"summary.{code}") for code in f) for f in failed],
    )


def show(p: dict[str, Any], search_id: int | None = None) -> None:
    radius = float(p["max_distance_km"] or DEFAULT_RADIUS_KM)
    located = p["latitude"] is not None and p["longitude"] is not None
    frame = pd.DataFrame(columns=["id", "name", "latitude", "longitude", "distance_km"])
    if located:
        with session_scope(data.engine()) as session:
            frame = therapists_near(
                session, latitude=p["latitude"], longitude=p["longitude"], radius_km=radius * SHOWN_BEYOND
            )
    frame = _with_rules(frame, search_id)
    patient_map(
        patient_latlon=(p["latitude"], p["longitude"]) if located else None,
        radius_km=radius,
        therapists_df=frame,
        key=f"patient_map_{p['id']}",
    )
    inside = frame[frame["distance_km"] <= radius] if not frame.empty else frame
    if located and inside.empty:
        st.info(t("patient.nearby.none", radius=formatting.number(radius)))
        return
    st.caption(nt("patient.nearby.count", len(inside), radius=formatting.number(radius)))
    for row in inside.head(10).itertuples():
        verdict = ""
        if "passes" in inside:
            verdict = " · " + (
                t("patient.nearby.passes") if row.passes else t("patient.nearby.fails", reasons=row.reasons)
            )
        st.page_link(
            page_path("therapist.py"),
            query_params={"id": str(row.id)},
            icon=":material/stethoscope:",
            label=f"{row.name} · {row.postcode} {row.city} · {formatting.km(row.distance_km)}{verdict}",
        )
