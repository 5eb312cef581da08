"""Which therapists could take a patient: the hard filters of DESIGN 3.2, simplified for the demo history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.demo.response import accept_probability

Row = dict[str, Any]

EARTH_RADIUS_KM = 6371.0088
# door-to-door km per minute including detours; a rough stand-in until travel times are computed properly
TRAVEL_KM_PER_MINUTE = {"car": 0.6, "transit": 0.3, "bike": 0.2, "foot": 0.07}
MAX_CANDIDATES = 150  # nobody contacts more than this many practices in six months
SETTINGS = {"individual": {"individual"}, "group": {"group"}, "either": {"individual", "group"}}


@dataclass(frozen=True)
class Candidate:
    """A therapist who passes a patient's hard filters."""

    therapist: int
    practice: int
    distance_km: float
    prior: float  # the acceptance chance the demo's matching ranks by


def radius_km(patient: Row) -> float:
    """Return the patient's search radius: max distance, or travel minutes turned into km."""
    if patient["max_distance_km"] is not None:
        return patient["max_distance_km"]
    return (patient["max_travel_minutes"] or 30) * TRAVEL_KM_PER_MINUTE[patient["transport_mode"]]


class TherapistIndex:
    """Active, located therapists with their coordinates as arrays, for one distance query per patient."""

    def __init__(self, therapists: Sequence[Row]) -> None:
        self.rows = [t for t in therapists if t["status"] == "active" and t["latitude"] is not None]
        self.lat = np.radians([t["latitude"] for t in self.rows])
        self.lon = np.radians([t["longitude"] for t in self.rows])

    def candidates(self, patient: Row, *, age: int, reach_km: float) -> list[Candidate]:
        """Return therapists within ``reach_km`` who pass the patient's filters, best prior first."""
        if patient["latitude"] is None or not self.rows:
            return []
        lat, lon = np.radians(patient["latitude"]), np.radians(patient["longitude"])
        a = np.sin((self.lat - lat) / 2) ** 2 + np.cos(lat) * np.cos(self.lat) * np.sin((self.lon - lon) / 2) ** 2
        distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
        found = []
        for index in np.flatnonzero(distance <= reach_km):
            therapist = self.rows[int(index)]
            if fits(patient, age, therapist):
                km = round(float(distance[index]), 1)
                prior = round(accept_probability(therapist["accepting_patients"], km), 4)
                found.append(Candidate(therapist["id"], therapist["practice_id"].key, km, prior))
        found.sort(key=lambda c: (-c.prior, c.distance_km, c.therapist))
        return found[:MAX_CANDIDATES]


def fits(patient: Row, age: int, therapist: Row) -> bool:
    """Return whether a therapist passes the patient's and the therapist's own hard filters."""
    age_group = "children_youth" if age < 18 else "adults"
    wishes = set(patient["procedure_wishes"])
    offers = any(
        entry["age_group"] == age_group
        and entry["setting"] in SETTINGS[patient["setting_wish"]]
        and (not wishes or entry["procedure"] in wishes)
        for entry in therapist["procedures"]
    )
    excluded = {ref.key for ref in patient["excluded_therapist_ids"]}
    return (
        offers
        and therapist["id"] not in excluded
        and patient["therapist_gender_wish"] in {"any", therapist["gender"]}
        and therapist["pref_patient_gender"] in {"any", patient["gender"]}
        and (therapist["pref_age_min"] is None or age >= therapist["pref_age_min"])
        and (therapist["pref_age_max"] is None or age <= therapist["pref_age_max"])
        and (not therapist["pref_diagnoses"] or _covered(patient["diagnoses"], therapist["pref_diagnoses"]))
        and bool(set(patient["languages"]) & set(therapist["languages"]))
        and (patient["insurance_type"] != "statutory" or therapist["statutory_licence"])
    )


def _covered(diagnoses: list[str], focus: list[str]) -> bool:
    # F40 covers F40.1; F40.1 does not cover F40.2 (DESIGN 3.2)
    return any(code == f or code.startswith(f + ".") for code in diagnoses for f in focus)
