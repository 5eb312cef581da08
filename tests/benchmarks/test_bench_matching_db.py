"""Benchmark: the nightly matching run from PostgreSQL, nationwide, end to end including its writes (issue 13).

Seeds PostgreSQL set-based (matching_db_seed.sql) with 50,000 therapists in practices at real PLZ centroids
and 10,000 patients with one active search each (plus 6,000 earlier inquiries), then runs the job
``run_matching`` through the job runner, as the scheduler does: lock, job_run record, delete the unreviewed
proposals, load the snapshot, candidates, filters, scores, assignment, store the proposals, commit.

Reported, all measured in this run:
- the first run of a process (no cached therapist side) and a second run (therapist side cached, and 5,000+
  unreviewed proposals of the first run to replace), each with its steps; target under 3 s;
- the in-memory pipeline on the same snapshot, as the baseline: the ratio says what the database adds;
- peak memory (tracemalloc) of loading the snapshot and of storing the proposals, each measured alone.

Only correctness is asserted (the run succeeds and stores what it proposed); times are printed, never asserted.

Measured 2026-12-01 (shared 2-core machine; 2,656,318 candidate pairs, 902,843 passing, ~9,350 inquiries with
~27,460 items):
- 16:29 and 16:35 UTC, quiet (load average 1.0-1.5), after the set-based delete and store and the
  first-offer value: first run 17.06 s / 16.16 s wall (13.27 / 12.79 s CPU), second run 15.98 s / 14.61 s
  (12.49 / 11.68 s CPU); replace 0.53-0.65 s, snapshot 1.84-2.20 s uncached, 1.03-1.08 s cached, store
  2.86-3.35 s, assignment 2.36-2.72 s, filters 2.21-2.60 s, scores 1.51-1.87 s; in-memory pipeline 6.25 s
  and 9.94 s. The 3 s target is missed; the first run is slower than the quiet run at 13:00 (13.1 s): the
  uncached snapshot reads a therapist table twice its former size (fillfactor 50, revision 0017_imp) and
  the steps nobody changed moved by as much between the two runs here.
- morning, quiet (load average < 1), before issue 13's work on the steps: first run 14.50 s, second 16.27 s;
  store 3.05-3.46 s, proposals 1.78-1.97 s, assignment 2.1 s, filters 1.8-3.6 s; in-memory pipeline 8.68 s.
- 11:00 UTC, load average 14.5 (six developers' tests at once), after sharing sentences and their JSON, the
  inline COPY rows and the cheaper filters: first run 91.7 s wall / 12.2 s CPU of this process, second run
  80.8 s wall / 12.5 s CPU; in-memory pipeline 56.3 s wall / 9.3 s CPU. Wall times under that load say
  nothing; the in-memory pipeline on test_bench_matching's snapshot, same load, old and new code back to
  back: 4.89 -> 3.66 s CPU with identical proposals. The 3 s target is MISSED; see the matching benchmark
  for what is left.

Quiet run, 2026-12-01 12:51 UTC, load average 1.1, after this session's changes: first run 13.09 s wall
(10.85 s CPU), second run 15.62 s wall (12.58 s CPU); in-memory pipeline 6.76 s; the 3 s target is missed.
(The same benchmark that morning, quiet, before them: 14.50 s and 16.27 s; in-memory 8.68 s.)

2026-12-01 14:52-15:00 UTC, load average 23 (no quiet window this afternoon; wall times are 5-6x inflated and
say nothing), after the set-based delete of the unreviewed proposals, COPY lines built from fragments made
once, day sentences keyed by whole days and column-wise proposals: first run 79.8 s wall / 13.86 s CPU of
this process, second run 65.5 s wall / 13.11 s CPU; in-memory pipeline 40.5 s wall / 10.33 s CPU. The code
before these changes, same harness and database, back to back at load 17-19: 13.36 / 13.16 s CPU. The store
alone on one saved result (27,475 items, rolled back), back to back at load 12-21: 1.75-1.92 s CPU before,
1.18-1.30 s after; its wall time is PostgreSQL's: without any trigger the COPY of the items still took 63 %
of its time with them (JSONB parsing of ~27 MB and three indexes), the foreign-key checks the rest. Why the
second run is slower than the first: the replaced proposals' deletion fires per-row foreign-key triggers,
EXPLAIN ANALYZE at load 12: 27,475 ON DELETE SET NULL checks of placement (0.75 s) and 4 x 9,318 checks of
email, phone_call, inbound_mail and the cascade to inquiry_item (0.3-0.4 s each); every index exists, the
cost is the triggers themselves. The 3 s target is MISSED by far.
"""

from __future__ import annotations

import ast
import os
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import get_settings
from core.demo.generate import demo_now
from core.matching import snapshot as snapshots
from core.matching.pipeline import run_pipeline, service_today
from core.operations import runner

HERE = Path(__file__).parent
THERAPISTS = 50_000
SEARCHES = 10_000
TODAY = date(2026, 3, 2)
NOW = demo_now(TODAY)
TARGET_S = 3.0


def seed(engine) -> float:
    """Fill the database from matching_db_seed.sql; return the seconds it took."""
    sql = (HERE / "matching_db_seed.sql").read_text()
    sql = sql.replace(":therapists", str(THERAPISTS)).replace(":searches", str(SEARCHES))
    sql = sql.replace(":today", f"'{TODAY.isoformat()}'").replace(":now", f"'{NOW.isoformat()}'")
    started = time.perf_counter()
    with engine.begin() as conn, conn.connection.cursor() as cursor:  # DBAPI: no bind-parameter parsing
        cursor.execute(sql)
    return time.perf_counter() - started


def run_job(engine) -> tuple[float, float, dict]:
    """Run the job as the scheduler does; return (wall seconds, this process's CPU seconds, the counts it recorded).

    The CPU time leaves out PostgreSQL's own work (another process); on a shared machine it is the steadier figure.
    """
    started, cpu = time.perf_counter(), time.process_time()
    run = runner.run_job("run_matching", triggered_by="bench", engine=engine, now=NOW)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    assert run.status.value == "succeeded", run.error
    return seconds, cpu_s, run.counts


def steps(counts: dict) -> str:
    timings = counts["timings"]
    if isinstance(timings, str):  # the job runner stores nested values as their text
        timings = ast.literal_eval(timings)
    return "  ".join(f"{step} {seconds:.2f}" for step, seconds in timings.items() if step != "total")


def peak_mib(function) -> tuple[object, float]:
    tracemalloc.start()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / 2**20


@pytest.mark.timeout(1800)  # seeding 60,000 records on a shared 2-core machine
def test_bench__nationwide_run_matching_from_the_database(committed_db):
    engine = committed_db
    seeded_s = seed(engine)
    settings = get_settings()
    snapshots.forget_cached_therapists()

    cold_s, cold_cpu, cold = run_job(engine)
    print(f"\nfirst run: {cold_s:.2f} s, steps: {steps(cold)}", flush=True)
    warm_s, warm_cpu, warm = run_job(engine)

    with Session(engine) as session:
        started = time.perf_counter()
        snapshot = snapshots.load_snapshot(session, now=NOW, today=service_today(NOW, settings))
        load_s = time.perf_counter() - started
        run_pipeline(snapshot, now=NOW, settings=settings, rng=np.random.default_rng(1))  # warm-up
        started, cpu = time.perf_counter(), time.process_time()
        result = run_pipeline(snapshot, now=NOW, settings=settings, rng=np.random.default_rng(1))
        pipeline_s, pipeline_cpu = time.perf_counter() - started, time.process_time() - cpu
        snapshots.forget_cached_therapists()
        _, load_cold_mib = peak_mib(lambda: snapshots.load_snapshot(session, now=NOW, today=TODAY))
        _, load_warm_mib = peak_mib(lambda: snapshots.load_snapshot(session, now=NOW, today=TODAY))
        stored = session.execute(text("SELECT count(*) FROM inquiry WHERE status = 'proposed'")).scalar_one()

    print(
        f"\nnationwide run_matching from PostgreSQL: {SEARCHES:,} active searches x {THERAPISTS:,} therapists "
        f"(seeded in {seeded_s:.1f} s; load average {os.getloadavg()[0]:.1f})\n"
        f"  first run  (no cache):        {cold_s:6.2f} s wall, {cold_cpu:.2f} s CPU of this process  "
        f"({'meets' if cold_s < TARGET_S else 'MISSES'} the {TARGET_S:g} s target)  steps: {steps(cold)}\n"
        f"  second run (therapists cached, replaces {warm['replaced']:,} proposals): {warm_s:6.2f} s wall, "
        f"{warm_cpu:.2f} s CPU  ({'meets' if warm_s < TARGET_S else 'MISSES'} the {TARGET_S:g} s target)  "
        f"steps: {steps(warm)}\n"
        f"  {warm['candidates']:,} candidate pairs, {warm['pairs_passing']:,} passing, {warm['inquiries']:,} "
        f"inquiries with {warm['items']:,} items stored\n"
        f"  baseline, the in-memory pipeline on the same snapshot: {pipeline_s:.2f} s wall, {pipeline_cpu:.2f} s CPU "
        f"(load alone {load_s:.2f} s); "
        f"end to end / in-memory: {warm_s / pipeline_s:.1f}x (second run)\n"
        f"  peak memory (tracemalloc): load_snapshot {load_cold_mib:.0f} MiB uncached, {load_warm_mib:.0f} MiB cached"
    )
    assert cold["searches"] == SEARCHES
    assert cold["therapists"] == THERAPISTS
    assert warm["replaced"] == cold["inquiries"]
    assert stored == warm["inquiries"]  # the job stored what it proposed
    assert len(result.inquiries) > 0  # the job draws its own exploration: the counts differ from this run's
