"""Tiny matching snapshots built from plain rows (no database): one Berlin patient, therapists nearby."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.config import load_settings
from core.geo.distance import haversine_km
from core.matching.snapshot import Snapshot, build_snapshot

TODAY = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=ZoneInfo("Europe/Berlin"))
BERLIN = (52.52, 13.405)
KM_PER_DEGREE_LATITUDE = 111.1951  # 2 pi R / 360 with R = 6371.0088 km
SETTINGS = load_settings(
    match_monthly_cap=2,
    match_min_overlap_hours=2.0,
    match_capacity_decline_days=90,
    match_inquiry_max_size=6,
    match_exploration_share=0.05,
    timezone="Europe/Berlin",
)
WEEKDAYS_8_TO_18 = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)]


def north_of_berlin(km: float) -> tuple[float, float]:
    """Return a point ``km`` due north of the patient."""
    return BERLIN[0] + km / KM_PER_DEGREE_LATITUDE, BERLIN[1]


def search_row(**overrides: Any) -> dict[str, Any]:
    """A 30-year-old statutory patient in Berlin, free on weekdays, 15 km radius, no wishes."""
    row = {
        "search_id": 1,
        "patient_id": 1,
        "status": "active",
        "started_on": TODAY - timedelta(weeks=10),
        "max_parallel": 3,
        "open_items": 0,
        "latitude": BERLIN[0],
        "longitude": BERLIN[1],
        "age": 30,
        "gender": "female",
        "insurance_type": "statutory",
        "diagnoses": (),
        "availability": WEEKDAYS_8_TO_18,
        "max_distance_km": 15.0,
        "max_travel_minutes": None,
        "transport_mode": "transit",
        "therapist_gender_wish": "any",
        "procedure_wishes": (),
        "setting_wish": "individual",
        "languages": ("de",),
        "excluded_therapist_ids": (),
        "relaxations": (),
    }
    row.update(overrides)
    return row


def therapist_row(**overrides: Any) -> dict[str, Any]:
    """A female VT therapist for adults (individual), 2 km north, phone hours Monday 9-10, practice 1."""
    latitude, longitude = north_of_berlin(2.0)
    row = {
        "therapist_id": 1,
        "practice_id": 1,
        "status": "active",
        "status_until": None,
        "latitude": latitude,
        "longitude": longitude,
        "gender": "female",
        "procedures": [{"procedure": "VT", "setting": "individual", "age_group": "adults"}],
        "languages": ("de",),
        "statutory_licence": True,
        "pref_age_min": None,
        "pref_age_max": None,
        "pref_patient_gender": "any",
        "pref_diagnoses": (),
        "accepting_patients": None,
        "accepting_confirmed_on": None,
        "last_verified_on": TODAY - timedelta(days=30),
        "practice_hours": {"0": [["09:00", "10:00"]]},
    }
    row.update(overrides)
    return row


def practice_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "practice_key": 1,
        "practice_id": 1,
        "cooldown_until": None,
        "last_contacted_at": None,
        "open_inquiries": 0,
        "inquiries_30d": 0,
        "inquiries_closed": 0,
        "inquiries_answered": 0,
        "items_answered": 0,
        "items_offered": 0,
    }
    row.update(overrides)
    return row


def snapshot(
    searches: list[dict[str, Any]] | None = None,
    therapists: list[dict[str, Any]] | None = None,
    practices: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Snapshot:
    """Return a snapshot of the given rows (defaults: one search, one therapist, one practice)."""
    return build_snapshot(
        now=NOW,
        today=TODAY,
        searches=pd.DataFrame(searches or [search_row()]),
        therapists=pd.DataFrame(therapists or [therapist_row()]),
        practices=pd.DataFrame(practices or [practice_row()]),
        pair_history=pd.DataFrame(history or [], columns=["search_id", "therapist_id", "outcome", "answered_at"]),
    )


def distances(snap: Snapshot, search_rows: np.ndarray, therapist_rows: np.ndarray) -> np.ndarray:
    """Return the great-circle km of the given pairs (NaN where a location is missing)."""
    s, t = snap.searches, snap.therapists
    return haversine_km(
        s["latitude"].to_numpy()[search_rows],
        s["longitude"].to_numpy()[search_rows],
        t["latitude"].to_numpy()[therapist_rows],
        t["longitude"].to_numpy()[therapist_rows],
    )
