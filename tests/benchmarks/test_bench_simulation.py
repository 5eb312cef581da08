"""Benchmark: one simulated year at national scale with the exact-learned policy (issue 12, target < 15 min).

Run with `make bench`. 50,000 therapists, 2,000 new searches a week, 365 days, the default world (the demo
response model), the learned model trained from day 60 and retrained weekly. Every day runs the
production pipeline on a snapshot of the simulated state (core.simulation.engine). Printed: seconds per
simulated day (mean, median, slowest), the total, the searches active at the end, and how often the
learned model was trained.

Measured so far (2026-12-01, the shared 2-core machine at a load average of about 16): the full year was
not run; a 4-day probe at national scale (``measure(therapists=50_000, searches_per_week=2_000, days=4,
train_after=2)``) took 445 s to set up and 152 s of wall clock per simulated day, while the process got
about 70 s of CPU in all; the snapshot build (``core.matching.snapshot.build_snapshot``, per-row Python over
every therapist, every day) dominated the smaller runs' profiles.

Only correctness is asserted (nobody contacted beyond the limits, placements happen, the learned model
took over); times are printed, never asserted: machines are shared and noisy.
"""

from __future__ import annotations

import time

import numpy as np

from core.simulation import SimulationConfig, simulate
from core.simulation.demo_world import DemoWorld

THERAPISTS = 50_000
SEARCHES_PER_WEEK = 2_000
DAYS = 365
TRAIN_AFTER = 60
TARGET_SECONDS = 15 * 60


def measure(*, therapists: int, searches_per_week: float, days: int, train_after: int, seed: int = 1) -> dict:
    """Run one simulation and return its timings and the report's key counts."""
    started = time.perf_counter()
    result = simulate(
        SimulationConfig(
            policy="exact-learned",
            days=days,
            seed=seed,
            therapists=therapists,
            searches_per_week=searches_per_week,
            train_after=train_after,
        ),
        world=DemoWorld(),
    )
    total = time.perf_counter() - started
    per_day = np.asarray(result.seconds_per_day)
    return {
        "total_seconds": total,
        "setup_seconds": total - float(per_day.sum()),
        "per_day_mean": float(per_day.mean()),
        "per_day_median": float(np.median(per_day)),
        "per_day_max": float(per_day.max()),
        "report": result.report,
    }


def test_bench_simulation__one_year_at_national_scale():
    measured = measure(therapists=THERAPISTS, searches_per_week=SEARCHES_PER_WEEK, days=DAYS, train_after=TRAIN_AFTER)
    report = measured["report"]
    print(
        f"\nsimulation, exact-learned, {THERAPISTS:,} therapists, {SEARCHES_PER_WEEK:,} searches a week, {DAYS} days:"
        f"\n  per simulated day  mean {measured['per_day_mean']:.2f} s, median {measured['per_day_median']:.2f} s, "
        f"slowest {measured['per_day_max']:.2f} s"
        f"\n  total              {measured['total_seconds']:.0f} s (setup {measured['setup_seconds']:.0f} s; "
        f"target {TARGET_SECONDS} s: {'met' if measured['total_seconds'] < TARGET_SECONDS else 'missed'})"
        f"\n  searches {report['searches']:,}, placements {report['placements']:,}, inquiries {report['inquiries']:,}, "
        f"trainings {len(report['trainings'])}"
    )
    assert report["beyond_limits"]["practices"] == 0
    assert report["placements"] > 0
    assert report["trainings"][-1]["model"] == "learned"
