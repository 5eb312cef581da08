"""What a simulation reports (issue 12): placements, time to placement, effort, limits, fairness.

key                    meaning
searches               searches that arrived during the run
placements             searches placed by the end of the run
placed_within          {"30"|"60"|"90": {"searches", "placed", "rate"}}: among searches that arrived at least
                       that many days before the last day (so each had the whole window), how many were placed
                       within it
median_days_to_placement  Kaplan-Meier median (lifelines): give-ups and searches still open at the end are
                       censored; None when fewer than half are ever placed within the run
inquiries, items, reminders, calls   totals; ``per_placement``: each divided by the placements
conflicts, late_answers, given_up, refused_at_approval   counts (refused: proposals the approval check
                       of core.matching.limits refused; 0 when the filters work)
beyond_limits          {"practices": practices contacted beyond a limit (must be 0), "sends": violating sends,
                       "by_rule": {rule: sends}} from the independent check (core.simulation.audit)
by_age_band, by_region {band or 2-digit PLZ region: {"searches", "placed", "rate"}}: searches that arrived at
                       least 30 days before the last day, placed by the end
seconds_per_day        mean wall-clock seconds per simulated day; ``seconds_total`` all days
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

WINDOWS = (30, 60, 90)
FAIRNESS_MIN_DAYS = 30


def build_report(result: Any) -> dict[str, Any]:
    """Return the report of a SimulationResult (see the module docstring)."""
    days = result.config.days
    searches: pd.DataFrame = result.searches
    started = searches["started_day"].to_numpy(dtype=float)
    ended = searches["ended_day"].to_numpy(dtype=float)  # NaN: still searching at the end
    placed = searches["status"].to_numpy() == "successful"
    observed = (days - 1) - started  # days each search was watched after its arrival
    waited = np.where(np.isnan(ended), observed, ended - started)
    placed_within = {}
    for window in WINDOWS:
        eligible = observed >= window
        hit = eligible & placed & (waited <= window)
        placed_within[str(window)] = {
            "searches": int(eligible.sum()),
            "placed": int(hit.sum()),
            "rate": _rate(hit.sum(), eligible.sum()),
        }
    counts = dict(result.counts)
    placements = counts["placements"]
    violations = result.contacts.violations
    fair = observed >= FAIRNESS_MIN_DAYS
    return {
        "policy": result.config.policy,
        "seed": result.config.seed,
        "days": days,
        "therapists": result.config.therapists,
        "searches_per_week": result.config.searches_per_week,
        "searches": len(searches),
        "placements": placements,
        "placed_within": placed_within,
        "median_days_to_placement": median_days(waited, placed),
        **{key: counts[key] for key in ("inquiries", "items", "reminders", "calls")},
        "per_placement": {
            key: round(counts[key] / placements, 3) if placements else None
            for key in ("inquiries", "items", "reminders", "calls")
        },
        **{key: counts[key] for key in ("conflicts", "late_answers", "given_up", "refused_at_approval", "expired")},
        "beyond_limits": {
            "practices": result.contacts.practices_beyond_limits,
            "sends": len({(v.inquiry_id) for v in violations}),
            "by_rule": dict(Counter(v.rule for v in violations)),
        },
        "by_age_band": _groups(searches[fair], placed[fair], "age_band"),
        "by_region": _groups(searches[fair], placed[fair], "region"),
        "trainings": result.trainings,
        "seconds_per_day": round(float(np.mean(result.seconds_per_day)), 4) if result.seconds_per_day else 0.0,
        "seconds_total": round(float(np.sum(result.seconds_per_day)), 2),
    }


def median_days(waited: np.ndarray, placed: np.ndarray) -> float | None:
    """Return the Kaplan-Meier median days to placement (censored: not placed); None when never reached."""
    if not len(waited) or not placed.any():
        return None
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit(np.maximum(waited, 0), event_observed=placed)
    median = float(fitter.median_survival_time_)
    return None if not np.isfinite(median) else median


def _rate(hit: float, total: float) -> float | None:
    return round(float(hit) / float(total), 4) if total else None


def _groups(searches: pd.DataFrame, placed: np.ndarray, column: str) -> dict[str, dict[str, Any]]:
    out = {}
    for value, rows in searches.groupby(column, sort=True).indices.items():
        hit = int(placed[rows].sum())
        out[str(value)] = {"searches": len(rows), "placed": hit, "rate": _rate(hit, len(rows))}
    return out
