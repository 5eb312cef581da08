""" "Why not?" (DESIGN 4, step 2): every rule one (search, therapist) pair fails, with distance, travel time and score.

It reads only the two records and the state of their practice (``load_snapshot`` with ids) and runs the
very filters and score model of the pipeline on them, so its answer agrees with a matching run made at the
same moment. Passing every rule does not mean the pair is proposed: the assignment picks the best pairs
under the contact limits.

Example:
    explanation = why_not(session, search_id=12, therapist_id=345, now=now, settings=get_settings())
    [f.code for f in explanation.failures]   # ["too_far", "therapist_gender"]
    explanation.failures[0].sentence         # "The practice is 23.4 km away; the patient's limit is 15 km."
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.geo.distance import haversine_km
from core.matching.filters import Failure, describe, evaluate, notes, overlap_hours, travel_minutes
from core.matching.pipeline import PipelineSettings, service_today
from core.matching.proposals import Factor
from core.matching.score import MatchModel, PriorModel, build_features
from core.matching.snapshot import Relaxation, load_snapshot
from core.messages import missing


@dataclass(frozen=True)
class Explanation:
    search_id: int
    therapist_id: int
    practice_id: int | None
    passed: bool  # no rule failed
    failures: tuple[Failure, ...]  # every failed rule, in rule order (code, sentence, details)
    notes: tuple[str, ...]  # rules skipped for lack of data, and staff relaxations that applied
    distance_km: float | None  # great-circle km; None when a location is missing
    travel_minutes: float | None  # estimate in the patient's transport mode
    transport_mode: str
    limit_km: float | None  # the patient's distance limit after relaxations (None: none)
    limit_minutes: float | None  # the patient's travel-time limit after relaxations (None: none)
    overlap_hours: float | None  # patient's hours a week on the practice's days (None: unknown)
    score: float  # the model's probability that the practice offers a place, even if a rule failed
    factors: tuple[Factor, ...]  # the score's top contributing factors
    relaxations: tuple[Relaxation, ...]  # staff relaxations of this search that the filters applied


def why_not(
    session: Session,
    *,
    search_id: int,
    therapist_id: int,
    now: datetime,
    settings: PipelineSettings,
    model: MatchModel | None = None,
) -> Explanation:
    """Return why a therapist is (not) proposed for a search; raise NotFound naming a missing id."""
    snapshot = load_snapshot(
        session, now=now, today=service_today(now, settings), search_ids=[search_id], therapist_ids=[therapist_id]
    )
    if snapshot.search_row(search_id) < 0:
        raise NotFound(missing("search", search_id))
    if snapshot.therapist_row(therapist_id) < 0:
        raise NotFound(missing("therapist", therapist_id))
    search = snapshot.searches.iloc[0]
    therapist = snapshot.therapists.iloc[0]
    km = float(haversine_km(search["latitude"], search["longitude"], therapist["latitude"], therapist["longitude"]))
    rows = np.zeros(1, dtype=np.int64)
    result = evaluate(snapshot, rows, rows, np.array([km]), settings=settings)
    failures = tuple(describe(snapshot, code, 0, 0, km, settings=settings) for code in result.reasons(0))
    probabilities, factors = (model or PriorModel()).predict(build_features(snapshot, rows, rows, np.array([km])))
    minutes = float(travel_minutes(snapshot, rows, np.array([km]))[0])
    overlap = float(overlap_hours(snapshot, rows, rows)[0])
    practice_id = snapshot.practices["practice_id"].to_numpy()[int(therapist["practice_row"])]
    return Explanation(
        search_id=search_id,
        therapist_id=therapist_id,
        practice_id=None if practice_id is None or practice_id != practice_id else int(practice_id),
        passed=bool(result.passed[0]),
        failures=failures,
        notes=tuple(notes(snapshot, 0, 0)),
        distance_km=_number(km),
        travel_minutes=_number(minutes),
        transport_mode=str(search["transport_mode"]),
        limit_km=_number(search["limit_km"]),
        limit_minutes=_number(search["limit_minutes"]),
        overlap_hours=_number(overlap),
        score=float(probabilities[0]),
        factors=factors[0],
        relaxations=tuple(search["active_relaxations"]),
    )


def _number(value: float) -> float | None:
    return None if value is None or value != value else round(float(value), 2)
