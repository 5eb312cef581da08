"""The simulated people: practices, therapists and arriving patients, drawn like the demo data's.

The same distributions as ``core.demo`` (procedures, phone hours, availability windows, radius by
transport mode, languages, wishes), on real postcode centroids. A small world lives in the largest places
only (one place per ``THERAPISTS_PER_PLACE`` therapists), so a few hundred therapists still form a dense
local market; 50,000 therapists cover about a hundred places.

Example:
    geography = Geography.load(therapists=2000)
    therapists = draw_therapists(geography, count=2000, rng=random.Random(1), today=date(2027, 1, 4))
    patient = draw_patient(geography, rng=random.Random(2), today=date(2027, 1, 4))
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd

from core.demo.availability import draw_windows
from core.demo.directory import PRACTICE_SIZES, draw_procedures
from core.demo.draws import pick
from core.demo.hours import draw_phone_hours
from core.demo.patients import PROCEDURE_WISHES, RADIUS_KM
from core.demo.places import PostcodePicker, Spot
from core.demo.vocabulary import DIAGNOSES, DIAGNOSIS_FOCUS, PATIENT_LANGUAGES, THERAPIST_EXTRA_LANGUAGES

THERAPISTS_PER_PLACE = 500  # a town of ~100,000 people has about this many psychotherapists around it
AGE_BANDS = ((0, 18, "<18"), (18, 30, "18-29"), (30, 45, "30-44"), (45, 65, "45-64"), (65, 200, "65+"))
GENDERS = {"female": 62, "male": 34, "diverse": 2, "unknown": 2}
THERAPIST_GENDERS = {"female": 74, "male": 24, "diverse": 1, "unknown": 1}
INSURANCES = {"statutory": 88, "private": 9, "subsidy": 3}
TRANSPORTS = {"transit": 50, "car": 25, "bike": 15, "foot": 10}
GENDER_WISHES = {"any": 70, "female": 25, "male": 5}
SETTING_WISHES = {"individual": 70, "either": 25, "group": 5}
ACCEPTING = {True: 25, False: 35, None: 40}


@lru_cache(maxsize=1)
def _postcodes_and_places() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from core.geo.postcodes import german_places, postcode_rows

    return postcode_rows(), german_places()


@dataclass(frozen=True)
class Geography:
    """Where the simulated people live: the largest places for the world's size."""

    picker: PostcodePicker

    @classmethod
    def load(cls, *, therapists: int) -> Geography:
        postcodes, places = _postcodes_and_places()
        count = max(1, round(therapists / THERAPISTS_PER_PLACE))
        largest = sorted(places, key=lambda p: (-p["population"], p["name"]))[:count]
        return cls(PostcodePicker(postcodes, largest))

    def spot(self, rng: random.Random) -> Spot:
        return self.picker.pick(rng)


def age_band(age: int) -> str:
    """Return the age band of the fairness report, e.g. 23 -> "18-29"."""
    return next(label for low, high, label in AGE_BANDS if low <= age < high)


def draw_therapists(geography: Geography, *, count: int, rng: random.Random, today: date) -> pd.DataFrame:
    """Return ``count`` active therapists grouped into practices (core.matching.snapshot's therapist columns)."""
    rows = []
    practice_id = 0
    while len(rows) < count:
        practice_id += 1
        size = min(pick(rng, PRACTICE_SIZES), count - len(rows))
        spot = geography.spot(rng)
        hours = draw_phone_hours(rng)
        for _ in range(size):
            procedures = draw_procedures(rng)
            groups = {entry["age_group"] for entry in procedures}
            age_min, age_max = (None, 21) if groups == {"children_youth"} else (None, None)
            accepting = pick(rng, ACCEPTING)
            rows.append(
                {
                    "therapist_id": len(rows) + 1,
                    "practice_id": practice_id,
                    "latitude": spot.latitude,
                    "longitude": spot.longitude,
                    "postcode": spot.plz,
                    "gender": pick(rng, THERAPIST_GENDERS),
                    "procedures": procedures,
                    "languages": (
                        "de",
                        *[code for code, share in THERAPIST_EXTRA_LANGUAGES.items() if rng.random() < share],
                    ),
                    "statutory_licence": rng.random() < 0.9,
                    "pref_age_min": age_min,
                    "pref_age_max": age_max,
                    "pref_patient_gender": "any",
                    "pref_diagnoses": tuple(rng.choice(DIAGNOSIS_FOCUS)) if rng.random() < 0.06 else (),
                    "accepting_patients": accepting,
                    "accepting_confirmed_on": None
                    if accepting is None
                    else today - timedelta(days=rng.randint(3, 300)),
                    "last_verified_on": today - timedelta(days=rng.randint(5, 400)),
                    "practice_hours": hours,
                }
            )
    return pd.DataFrame(rows)


def draw_patient(geography: Geography, *, rng: random.Random, today: date) -> dict[str, Any]:
    """Return one patient's search (core.matching.snapshot's search columns, without ids and start day)."""
    spot = geography.spot(rng)
    age = rng.randint(14, 17) if rng.random() < 0.05 else int(rng.triangular(18, 75, 28))
    transport = pick(rng, TRANSPORTS)
    return {
        "latitude": spot.latitude,
        "longitude": spot.longitude,
        "region": spot.plz[:2],
        "age": age,
        "gender": pick(rng, GENDERS),
        "insurance_type": pick(rng, INSURANCES),
        "diagnoses": tuple(sorted(rng.sample(DIAGNOSES, rng.randint(1, 2)))) if rng.random() < 0.4 else (),
        "availability": tuple(draw_windows(rng, flexible=rng.random() < 0.7)),
        "max_distance_km": float(rng.choice(RADIUS_KM[transport])),
        "transport_mode": transport,
        "therapist_gender_wish": pick(rng, GENDER_WISHES),
        "procedure_wishes": tuple(pick(rng, PROCEDURE_WISHES)),
        "setting_wish": pick(rng, SETTING_WISHES),
        "languages": tuple(pick(rng, PATIENT_LANGUAGES)),
    }
