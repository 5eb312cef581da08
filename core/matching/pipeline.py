"""The matching pipeline (DESIGN 4): snapshot -> candidates -> hard filters -> scores -> exploration + assignment.

``run_pipeline`` is pure (no session, no clock: the snapshot carries its time); ``propose`` loads the
snapshot and runs it. The result's inquiries go to ``core.matching.store``; its stats feed the job summary:

stats key                  meaning
model                      the score model's name (e.g. prior-v1)
searches / therapists      rows in the snapshot; ``practices``: practices (or practice-less therapists)
searches_with_capacity     searches that may get a new item; ``slots``: the new items they may get in total
searches_without_location  searches without coordinates (they find no candidates)
candidates                 pairs within reach (one BallTree query); ``pairs_passing``: pairs passing every filter
filter_failures            {reason code: pairs failing that rule}; a pair may fail several
exploration_items          items drawn at random (MATCH_EXPLORATION_SHARE); ``objective_exploration`` their value
objective_optimised        value (sum of score x waiting weight x first-offer share) of the optimised items (exact
                           when proven_optimal; see core.matching.assign)
objective_greedy           value of the anchor's rule on the same slots (oldest first, nearest therapist)
objective_value_greedy     value of the fair greedy baseline (most valuable pair first, same limits; the incumbent)
upper_bound, proven_optimal  no assignment beats upper_bound; proven_optimal when it equals objective_optimised
                           (the flow's branch and bound, then a MIP on small batches: core.matching.assign_mip)
flow_solves, split_practices  min-cost-flow solves spent; practices the first flow split between therapists
expected_placements        sum of the chosen items' scores (probabilities), exploration included
ignored_relaxations        relaxation entries with an unknown rule or value (see core.matching.snapshot)
timings                    seconds per step: snapshot (propose only), candidates, filters, scores,
                           exploration, greedy, value_greedy, assignment, proposals, total

Example:
    with session_scope() as session:
        result = propose(session, now=now, settings=get_settings(), region="10", seed=7)
    result.stats["objective_optimised"], result.inquiries[0].items[0].factors
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from core.matching.assign import (
    AssignmentProblem,
    draw_exploration,
    residual,
    solve_exact,
    solve_greedy,
    solve_value_greedy,
    violations,
)
from core.matching.assign_mip import refine
from core.matching.candidates import Candidates, find_candidates
from core.matching.filters import evaluate, search_capacity
from core.matching.proposals import MatchingResult, ProposedInquiry, ProposedItem
from core.matching.score import (
    FEATURE_COLUMNS,
    MatchModel,
    PriorModel,
    build_features,
    first_offer_share,
    waiting_weight,
)
from core.matching.snapshot import Snapshot, load_snapshot

MIP_SECONDS = 1.0  # the nightly run's budget is 3 s nationwide (issue 13); small batches get the MIP
MIP_MAX_PAIRS = 50_000  # above this many eligible pairs the flow's bound stands (nationwide: ~0.4 % gap)


class PipelineSettings(Protocol):
    """The settings the pipeline reads (core.config.Settings has them)."""

    match_inquiry_max_size: int
    match_exploration_share: float
    match_monthly_cap: int
    match_min_overlap_hours: float
    match_capacity_decline_days: int
    timezone: str


def service_today(now: datetime, settings: PipelineSettings) -> date:
    """Return the calendar day of ``now`` where the service works (TIMEZONE), as core.matching.limits does."""
    return now.astimezone(ZoneInfo(settings.timezone)).date() if now.tzinfo else now.date()


def run_pipeline(
    snapshot: Snapshot,
    *,
    now: datetime,
    settings: PipelineSettings,
    rng: np.random.Generator,
    model: MatchModel | None = None,
    candidate_finder: Callable[[Snapshot], Candidates] = find_candidates,
    assignment: str = "exact",
    mip_seconds: float = MIP_SECONDS,
) -> MatchingResult:
    """Return the proposed inquiries for a snapshot: exploration items first, the optimal assignment for the rest.

    ``now`` is recorded in the stats (the snapshot carries the time its rules are judged at); ``rng`` draws
    the exploration items, so a seeded generator gives the same proposals for the same snapshot.
    ``candidate_finder`` replaces the spatial index (the benchmark's brute-force baseline uses it).
    ``assignment="greedy"`` sends the greedy baseline instead of the exact optimum (the simulator's anchor).
    ``mip_seconds`` limits the MIP that closes the flow's gap on batches of up to MIP_MAX_PAIRS pairs.
    """
    if assignment not in ("exact", "greedy"):
        raise ValueError(f"Unknown assignment '{assignment}'; use 'exact' or 'greedy'")
    model = model or PriorModel()
    timings: dict[str, float] = {}
    clock = _Stopwatch(timings)
    searches, therapists = snapshot.searches, snapshot.therapists

    with clock("candidates"):
        candidates = candidate_finder(snapshot)
    with clock("filters"):
        checked = evaluate(
            snapshot, candidates.search_rows, candidates.therapist_rows, candidates.distance_km, settings=settings
        )
        passing = np.flatnonzero(checked.passed)
        # a canonical order: the result must not depend on how the candidate finder ordered equal distances
        passing = passing[np.lexsort((candidates.therapist_rows[passing], candidates.search_rows[passing]))]
        s, t = candidates.search_rows[passing], candidates.therapist_rows[passing]
        km = candidates.distance_km[passing]
    with clock("scores"):
        features = build_features(snapshot, s, t, km)
        probability = model.predict_proba(features)
        weight = waiting_weight(features["waiting_days"].to_numpy())
        # first acceptance wins: an item is worth its score only if the search's open items bring no offer first
        best = np.zeros(len(searches))
        np.maximum.at(best, s, probability)
        weight = weight * first_offer_share(searches["open_items"].to_numpy()[s], best[s])
    capacity = search_capacity(snapshot)
    problem = AssignmentProblem.build(
        search=s,
        therapist=t,
        practice=therapists["practice_row"].to_numpy()[t],
        value=probability * weight,
        distance_km=km,
        search_capacity=capacity,
        practices=len(snapshot.practices),
        inquiry_size=settings.match_inquiry_max_size,
        search_priority=searches["started_day"].to_numpy(),
    )
    with clock("exploration"):
        explored = draw_exploration(problem, share=settings.match_exploration_share, rng=rng)
        rest, rest_pairs = residual(problem, explored.pairs)
    with clock("greedy"):
        greedy = solve_greedy(rest)
    with clock("value_greedy"):
        value_greedy = solve_value_greedy(rest)
    with clock("assignment"):
        if assignment == "greedy":
            exact = greedy  # the anchor's rule, sent as it is (the simulator's baseline policy)
        else:
            exact = solve_exact(rest, incumbent=value_greedy.pairs)
            if not exact.proven_optimal and mip_seconds > 0 and len(rest) <= MIP_MAX_PAIRS:
                exact = refine(rest, exact, seconds=mip_seconds)  # closes the flow's gap when it is affordable
    chosen = np.concatenate([explored.pairs, rest_pairs[exact.pairs]]).astype(np.int64)
    broken = violations(problem, chosen)
    if broken:
        raise RuntimeError(f"the assignment breaks its own constraints: {broken[:3]}")
    with clock("proposals"):
        inquiries = _proposals(snapshot, problem, chosen, explored, features, model)
    timings["total"] = sum(timings.values())
    stats: dict[str, Any] = {
        "now": now.isoformat(),
        "model": model.name,
        "model_version": getattr(model, "version", None),
        "searches": len(searches),
        "therapists": len(therapists),
        "practices": len(snapshot.practices),
        "searches_with_capacity": int(np.count_nonzero(capacity)),
        "slots": int(capacity.sum()),
        "searches_without_location": len(candidates.searches_without_location),
        "candidates": len(candidates),
        "pairs_passing": len(passing),
        "filter_failures": checked.counts(),
        "exploration_items": len(explored.pairs),
        "inquiries": len(inquiries),
        "items": len(chosen),
        "objective_exploration": problem.objective(explored.pairs),
        "objective_optimised": exact.objective,
        "objective_greedy": greedy.objective,
        "objective_value_greedy": value_greedy.objective,
        "upper_bound": exact.upper_bound,
        "proven_optimal": exact.proven_optimal,
        "flow_solves": exact.solves,
        "split_practices": exact.split_practices,
        "expected_placements": float(probability[chosen].sum()),
        "ignored_relaxations": sum(len(v) for v in snapshot.ignored_relaxations.values()),
        "timings": {step: round(seconds, 4) for step, seconds in timings.items()},
    }
    return MatchingResult(inquiries=tuple(inquiries), stats=stats)


def _proposals(
    snapshot: Snapshot,
    problem: AssignmentProblem,
    chosen: np.ndarray,
    explored: Any,
    features: Any,
    model: MatchModel,
) -> list[ProposedInquiry]:
    """Group the chosen pairs into one inquiry per therapist, best score first, with each item's factors."""
    if not len(chosen):
        return []
    chosen_features = features.iloc[chosen].reset_index(drop=True)
    probability, factors = model.predict(chosen_features)
    feature_rows = stored_features(chosen_features)
    drawn = dict(zip(explored.pairs.tolist(), explored.probabilities.tolist(), strict=True))
    # each pair's ids and values gathered column-wise once (plain Python values, as int()/float() gave them)
    search_of = snapshot.searches["search_id"].to_numpy()[problem.search[chosen]].tolist()
    therapist_of = snapshot.therapists["therapist_id"].to_numpy()[problem.therapist[chosen]].tolist()
    practice_row_of = problem.practice[chosen].tolist()
    scores = probability.astype(float).tolist()
    distances = problem.distance_km[chosen].astype(float).tolist()
    practice_ids = snapshot.practices["practice_id"].to_numpy()
    by_therapist: dict[int, list[tuple[float, int, ProposedItem]]] = {}
    practice_of: dict[int, int] = {}
    for position, pair in enumerate(chosen.tolist()):
        explored_probability = drawn.get(pair)
        item = ProposedItem(
            search_id=int(search_of[position]),
            score=round(scores[position], 6),
            factors=factors[position],
            distance_km=round(distances[position], 2),
            is_exploration=explored_probability is not None,
            selection_probability=None if explored_probability is None else round(explored_probability, 6),
            features=feature_rows[position],
        )
        therapist = int(therapist_of[position])
        by_therapist.setdefault(therapist, []).append((-item.score, item.search_id, item))
        practice_of[therapist] = int(practice_row_of[position])
    inquiries = []
    for therapist, items in sorted(by_therapist.items()):
        practice_id = practice_ids[practice_of[therapist]]
        inquiries.append(
            ProposedInquiry(
                therapist_id=therapist,
                practice_id=None if practice_id is None or practice_id != practice_id else int(practice_id),
                items=tuple(item for _, _, item in sorted(items)),
            )
        )
    return inquiries


def stored_features(features: Any) -> list[dict[str, float | None]]:
    """Return each feature row as a JSON-ready dict (NaN -> None): the training data fixed at proposal time."""
    values = features.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype=float)
    cells = values.astype(object)  # Python floats, and None where a value is unknown
    cells[np.isnan(values)] = None
    return [dict(zip(FEATURE_COLUMNS, row, strict=True)) for row in cells.tolist()]


def propose(
    session: Session,
    *,
    now: datetime,
    settings: PipelineSettings,
    region: str | None = None,
    seed: int | None = None,
    model: MatchModel | None = None,
) -> MatchingResult:
    """Load the snapshot (active searches of the 2-digit PLZ ``region``, or all) and run the pipeline on it.

    Reads only; the caller stores the result (core.matching.store). ``seed`` fixes the exploration draws.
    Without ``model`` it scores with the one MATCH_MODEL chooses (core.models_registry.service.active_model).
    """
    started = time.perf_counter()
    if model is None:
        from core.models_registry.service import active_model  # the registry loads only when a run starts

        model = active_model(session, settings=settings)  # type: ignore[arg-type]
    snapshot = load_snapshot(session, now=now, today=service_today(now, settings), region=region)
    loaded = time.perf_counter() - started
    result = run_pipeline(snapshot, now=now, settings=settings, rng=np.random.default_rng(seed), model=model)
    timings = {"snapshot": round(loaded, 4), **result.stats["timings"]}
    timings["total"] = round(timings["total"] + loaded, 4)
    return MatchingResult(
        inquiries=result.inquiries, stats={**result.stats, "region": region, "seed": seed, "timings": timings}
    )


class _Stopwatch:
    """``with clock("step"):`` adds the seconds the block took to ``timings["step"]``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, step: str) -> _Stopwatch:
        self.step = step
        return self

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.timings[self.step] = self.timings.get(self.step, 0.0) + time.perf_counter() - self.started
