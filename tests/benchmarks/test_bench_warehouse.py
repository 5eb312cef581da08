"""Benchmark: the analytics warehouse on 200,000 searches and 1,000,000 inquiry items (issue #11).

Run with `make bench`. Seeds PostgreSQL set-based (warehouse_seed.sql), then reports in one run:
- the build a user waits for (extract, dbt models and tests, publish) and its extract / marts parts,
  target under 15 s on this machine; wall time and this process's CPU time (the machine is shared);
- an incremental rebuild after 1 % of the inquiry items changed (what the nightly job does);
- the baseline: the same headline metrics (placement rates by cohort, funnel, response rates, Kaplan-Meier
  curves) computed by SQL straight on PostgreSQL (warehouse_baseline.sql), and the ratio;
- each analytics page's server time on that warehouse (uncached AppTest run, median), target under 500 ms,
  against a title-only page as in test_bench_pages;
- peak memory (ru_maxrss) of this process (dbt runs in it) and of any child process after each part.
It asserts only that the figures are right (the baseline agrees with the marts), never a time.

Measured 2026-12-01 16:25-16:29 UTC on a quiet machine (load average 1.0-1.6), the code below (binary COPY
through ADBC, integer search numbers in the item marts): full build 25.74 s wall, 30.90 s CPU of this process
(extraction 6.92 s, dbt models and tests 18.81 s): the 15 s target is missed; the SQL baseline on PostgreSQL
13.34 s; pages 29-300 ms (overview 189, success 297, process 176, bottlenecks 300, responses 298, reports
263, SQL box 29 ms; title-only page 5.2 ms); peak 1,004 MB in this process, 964 MB in the largest child.
Before this round, quiet: full build 28.8 s (extraction 11.8 s, dbt 17.0 s).

Measured 2026-12-01 (2 cores shared with other developers' test runs, so wall times are several times the
CPU times; judge by CPU): before, load 12.8: full build 108.7 s wall, 32.5 s CPU in this process (extract
39.8 s, dbt 68.8 s); baseline 38.9 s. After (timestamps copied as integers, report filter values without
joins, no dbt JSON artifacts, staging inlined: 51 dbt nodes instead of 60), load 11.9-13.9: full build
111.0 s wall, 30.4 s CPU (extract 33.7 s, dbt 77.3 s), incremental 87.3 s wall / 19.4 s CPU; baseline 48.1 s.
The profile's COPY+parse over all tables fell from 38.2 s to 18.2 s wall at the same load. A warm dbt build
costs 16.5 s CPU, of it about 11 s DuckDB's own work (measured per model: fct_inquiry_items 3.1 s, of it
about 1.5 s writing 1,000,000 rows x 30 columns; each mart over the items 0.4-1.7 s, mostly
count(distinct search_pseudonym) on strings) and about 3 s dbt's per-node overhead and parse. Pages (median,
uncached): overview 637 ms, success 897 ms, process 421 ms, bottlenecks 367 ms, responses 338 ms, reports
2,210 ms (its five filter lists: 2.1 s CPU before, 0.6 s now), SQL box 23 ms; peak memory 984 MB in this
process (dbt and DuckDB run in it), 619 MB in the largest child. The 15 s target needs an idle machine at
the least: the build's CPU time alone (this process, without PostgreSQL's side of COPY) is twice 15 s.

Pages, 2026-12-01 later (issue #11 page part; this benchmark's warehouse built once and kept, each page run
uncached by the same AppTest method, median of 5; wall / CPU of this process): before, load 7.2-7.5 (median
of 3): overview 285 / 196 ms, success 486 / 324 ms, reports 1,254 / 1,048 ms (its gender and insurance filter
lists each joined 1,000,000 items to their searches: 0.3 s CPU apiece). After (filter lists from the searches
alone on a published build, whose relationships test guarantees every item's search, all five over one
connection; the survival curve read for the chosen stratum kind, 730 of 63,834 rows, analysts' hidden cells
still decided over the whole mart; mart names from duckdb_tables(); altair tooltips as channel objects),
load 6.5-6.9: overview 206 / 164 ms, success 247 / 227 ms, reports 366 / 282 ms, process 254 / 164 ms,
bottlenecks 580 / 333 ms, responses 376 / 232 ms, SQL box 66 / 27 ms, title-only page 9 ms. What is left per
page is mostly opening the DuckDB file once per mart read (20-35 ms CPU each) and Streamlit's own rendering.

Quiet run, 2026-12-01 12:57 UTC, load average 1.1-1.4: full build 28.8 s wall, 29.4 s CPU (extraction 11.8 s,
dbt models and tests 17.0 s): the 15 s target is missed; incremental build (1 % changed) 14.7 s; baseline SQL on
PostgreSQL 13.9 s; pages (median, uncached): overview 173 ms, success 244 ms, process 159 ms, bottlenecks
248 ms, responses 215 ms, reports 239 ms, SQL box 19 ms, all under 500 ms; peak 1,017 MB in this process, 622 MB
in the largest child.

Build speed, 2026-12-01 14:45-15:10 UTC (issue #11 Done-when 6), load average 20-22 throughout (six developers'
runs on 2 cores), so wall times are several times the work; judged by CPU. Changes: extraction by binary COPY
through ADBC into Arrow in two reader threads that import the main transaction's exported snapshot (PostgreSQL
formats one table while this process decodes another and writes Parquet, zstd level 1); an integer
search_number for the marts' count(distinct) instead of the 18-character pseudonyms; elapsed seconds in DuckDB
from integer microseconds (seconds_between macro) instead of an interval. This run: full build 395.2 s wall,
33.6 s CPU in this process (extraction 108.8 s, dbt 286.3 s), incremental 218.1 s / 21.6 s CPU, baseline
70.0 s, peak 963 MB in this process. Measured side by side on the same seeded data (dev harness, old and new
code alternately): extraction at load 9-10 37.5 s -> 27.9 s wall, this process 6.7 s -> 8.7 s CPU (decoding moved
here from PostgreSQL's text formatting: PostgreSQL's CPU for all COPYs 7.8 s -> 5.2 s), peak 0.46 -> 0.79 GB while
the readers copy ahead; DuckDB's own CPU for all models and tests 12.7 s -> 11.2 s (funnel 2.1 -> 0.6 s,
calibration 0.6 -> 0.3 s, staff efficiency 2.0 -> 1.5 s, fct_search_spells 0.3 -> 0.9 s for the numbering), but
the warm dbt build at load 4-10 varied 17.0-22.7 s CPU (old) and 18.3-20.7 s (new): about 1 s saved, within the
noise. Estimate for a quiet machine: extraction about 8-9 s (was 11.8 s), dbt about 16 s (was 17.0 s), full build
about 25 s: the 15 s target is still missed. What is left: fct_inquiry_items (2.4 s CPU, 1,000,000 rows x 31
columns written), count(distinct inquiry_id) per week/month/practice (staff efficiency, contacts, response
rates: 1-2 s each), date_trunc on timestamptz (zone-aware, 2x a plain timestamp), dbt's ~0.05-0.15 s per node.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import service as auth
from core.config import get_settings
from core.db import refresh_statistics
from core.warehouse.build import build_warehouse
from core.warehouse.read import connect
from tests.dashboards.conftest import PASSWORD, open_page

HERE = Path(__file__).parent
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
SIZES = {"searches": 200_000, "practices": 30_000, "therapists": 40_000, "inquiries": 400_000, "items": 1_000_000}
BUILD_TARGET_S = 15
PAGE_TARGET_MS = 500
PAGE_RUNS = 5
PAGES = ["analytics_overview.py", "analytics_success.py", "analytics_process.py", "analytics_bottlenecks.py",
         "analytics_responses.py", "analytics_reports.py", "analytics_sql.py"]  # fmt: skip


def statements(file: str) -> list[tuple[str, str]]:
    """Return (name, SQL) per ";;"-separated statement of ``file`` with the benchmark's constants filled in."""
    sql = (HERE / file).read_text()
    for name, value in SIZES.items():
        sql = sql.replace(f":{name}", str(value))
    sql = sql.replace(":today", f"'{TODAY.isoformat()}'").replace(":now", f"'{NOW.isoformat()}'")
    parts = []
    for part in sql.split("\n;;\n"):
        names = [line.split(":", 1)[1].strip() for line in part.splitlines() if line.startswith("-- name:")]
        parts.append((names[0] if names else "", part))
    return parts


def peak_mb() -> tuple[float, float]:
    """Peak resident memory so far of this process and of its largest finished child (Linux: KiB -> MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def verdict(value: float, target: float) -> str:
    return "target met" if value < target else "target MISSED"


def seed_history(engine) -> dict[str, int]:
    with engine.begin() as conn, conn.connection.cursor() as cursor:  # DBAPI: no bind-parameter parsing
        for _, sql in statements("warehouse_seed.sql"):
            cursor.execute(sql)
        for table in ("staff_user", "practice", "therapist", "patient", "search", "inquiry", "inquiry_item"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    refresh_statistics(engine)
    tables = ("search", "placement", "practice", "therapist", "inquiry", "inquiry_item", "email", "phone_call")
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in tables}


def baseline_metrics(engine) -> tuple[float, dict[str, list[dict]]]:
    """Compute the baseline's metrics on PostgreSQL; return the seconds it took and the rows per metric."""
    results = {}
    started = time.perf_counter()
    with engine.connect() as conn, conn.connection.cursor() as cursor:
        for name, sql in statements("warehouse_baseline.sql"):
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            results[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return time.perf_counter() - started, results


def mart_rows(sql: str) -> list[dict]:
    with connect() as con:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def assert_baseline_matches_marts(base: dict[str, list[dict]]) -> None:
    rates = mart_rows("select * from mart_placement_rates order by cohort_month")
    assert len(rates) == len(base["placement_rates"]) > 20
    for mart, pg in zip(rates, base["placement_rates"], strict=True):
        assert mart["cohort_month"] == pg["cohort_month"]
        for column in ("searches", "observed_30", "placed_30", "observed_90", "placed_90"):
            assert mart[column] == pg[column], (mart["cohort_month"], column)
        for column in ("rate_30", "rate_60", "rate_90"):
            assert close(mart[column], pg[column]), (mart["cohort_month"], column, mart[column], pg[column])

    funnel = mart_rows("select * from mart_funnel order by step_order")
    assert [(r["step"], r["items"], r["searches"]) for r in funnel] == [
        (r["step"], r["items"], r["searches"]) for r in base["funnel"]
    ]
    for mart, pg in zip(funnel, base["funnel"], strict=True):
        assert close(mart["median_days"], pg["median_days"]), mart["step"]

    responses = {(r["dimension"], r["value"]): r for r in mart_rows("select * from mart_response_rates")}
    assert len(responses) == len(base["response_rates"]) > 10_000
    for pg in base["response_rates"]:
        mart = responses[(pg["dimension"], pg["value"])]
        for column in ("inquiries", "items", "searches", "answered_items", "offered_items"):
            assert mart[column] == pg[column], (pg["dimension"], pg["value"], column)
        assert close(mart["response_rate"], pg["response_rate"])
        assert close(mart["acceptance_rate"], pg["acceptance_rate"])

    curve = {(r["stratum_kind"], r["stratum"], r["day"]): r for r in mart_rows("select * from mart_time_to_placement")}
    assert len(curve) == len(base["time_to_placement"]) > 700
    for pg in base["time_to_placement"]:
        mart = curve[(pg["stratum_kind"], pg["stratum"], pg["day"])]
        assert (mart["at_risk"], mart["events"], mart["censored"]) == (pg["at_risk"], pg["events"], pg["censored"])
        assert math.isclose(mart["survival"], pg["survival"], rel_tol=1e-9, abs_tol=1e-12), pg


def page_ms(at: AppTest) -> float:
    """Median milliseconds of uncached reruns of a warmed-up page (empty data caches, as after a rebuild)."""
    import streamlit as st

    samples = []
    for _ in range(PAGE_RUNS):
        st.cache_data.clear()
        started = time.perf_counter()
        at.run()
        samples.append((time.perf_counter() - started) * 1000)
        assert not at.exception, [e.stack_trace for e in at.exception]
    return statistics.median(samples)


def profile_build(engine, work: Path) -> list[str]:
    """Where the build's time goes: each table's COPY, decoding and Parquet write; dbt's start-up; each dbt node."""
    import adbc_driver_postgresql.dbapi as adbc

    from core.warehouse import extract as wx
    from core.warehouse.build import run_dbt
    from core.warehouse.pseudonyms import warehouse_key

    lines = ["profile (a second build, not published):"]
    raw = work / "raw"
    raw.mkdir(parents=True)
    key = warehouse_key(get_settings().resolved_secret_key())
    pg_counts = {}
    known = {}
    connection = adbc.connect(wx._adbc_uri(engine), autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for name, (query, schema) in wx.SOURCES.items():
                t0 = time.perf_counter()
                frame = wx._copy_frame(cursor, query, schema)
                t1 = time.perf_counter()
                frame = wx._pseudonymise(frame, key, known)
                t2 = time.perf_counter()
                frame.write_parquet(raw / f"{name}.parquet", compression="zstd", compression_level=wx.ZSTD_LEVEL,
                                    statistics=True)  # fmt: skip
                t3 = time.perf_counter()
                cursor.execute(f"SELECT count(*) AS n FROM {wx.TABLES[name]}")
                pg_counts[name] = counts = int(cursor.fetch_arrow_table().column(0)[0].as_py())
                t4 = time.perf_counter()
                lines.append(
                    f"  extract {name:<14}{counts:>10,} rows: COPY+decode {t1 - t0:6.2f} s, "
                    f"pseudonyms {t2 - t1:5.2f} s, parquet {t3 - t2:5.2f} s, count {t4 - t3:5.2f} s"
                )
            cursor.execute("ROLLBACK")
    finally:
        connection.close()
    t0, cpu = time.perf_counter(), time.process_time()
    dbt = run_dbt(raw_dir=raw, duckdb_path=work / "profile.duckdb", work_dir=work,
                  variables={"extracted_on": TODAY.isoformat(), "pg_counts": pg_counts})  # fmt: skip
    lines.append(f"  dbt build (in process, dbt already imported): wall {time.perf_counter() - t0:6.2f} s, "
                 f"CPU {time.process_time() - cpu:6.2f} s")  # fmt: skip
    nodes = sorted(dbt["nodes"], key=lambda n: -n["seconds"])
    for node in nodes[:12]:
        lines.append(f"  dbt node {node['node'][:60]:<62}{node['seconds']:6.2f} s")
    lines.append(f"  dbt nodes in all: {len(nodes)}, summed node time {sum(n['seconds'] for n in nodes):6.2f} s")
    return lines


@pytest.fixture
def warehouse_cleanup():
    yield
    import shutil

    shutil.rmtree(get_settings().data_dir / "warehouse", ignore_errors=True)


@pytest.mark.timeout(2400)  # seeding alone takes minutes on the shared machine
def test_bench__warehouse_with_1000000_inquiry_items(committed_db, repo_root, warehouse_cleanup, tmp_path):
    lines = []
    started = time.perf_counter()
    counts = seed_history(committed_db)
    print(f"\nseeded in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    assert counts["search"] == SIZES["searches"]
    assert counts["inquiry_item"] == SIZES["items"]
    memory_before = peak_mb()

    started, cpu = time.perf_counter(), time.process_time()
    with Session(committed_db) as session:
        summary = build_warehouse(session, now=NOW, full=True)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    memory_build = peak_mb()
    assert summary["published"]
    assert summary["rows"]["inquiry_items"] == SIZES["items"]

    with committed_db.begin() as conn:  # a day's work: 1 % of the items answered
        conn.execute(text("UPDATE inquiry_item SET outcome = 'declined_capacity' WHERE id % 100 = 7"))
    started, cpu = time.perf_counter(), time.process_time()
    with Session(committed_db) as session:
        incremental = build_warehouse(session, now=NOW.replace(minute=30))
    incremental_s, incremental_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not incremental["full"]
    assert incremental["rows_copied"]["inquiry_items"] == SIZES["items"] // 100

    baseline_s, base = baseline_metrics(committed_db)
    memory_baseline = peak_mb()
    assert_baseline_matches_marts(base)

    with Session(committed_db) as session:
        user = auth.create_user(session, email="bench-manager@example.org", role="manager", password=PASSWORD)
        session.commit()
        user_id = user.id
    title_only = AppTest.from_string("import streamlit as st\nst.title('baseline')", default_timeout=60).run()
    title_ms = page_ms(title_only)
    pages = {}
    for page in PAGES:
        at = open_page(repo_root, page, user_id=user_id, email="bench-manager@example.org", role="manager")
        assert not at.exception, [e.stack_trace for e in at.exception]
        pages[page] = page_ms(at)
    memory_pages = peak_mb()

    placed = counts["placement"] / counts["search"]
    lines.append(
        f"data: {counts['search']:,} searches ({placed:.0%} placed), {counts['inquiry']:,} inquiries, "
        f"{counts['inquiry_item']:,} items, {counts['email']:,} emails, {counts['phone_call']:,} calls"
    )
    lines.append(f"{'part':<44}{'figure':>12}  {'ratio':>10}  verdict")
    lines.append(f"{'build_warehouse --full end to end (user waits)':<44}{build_s:>10.2f} s  "
                 f"{build_s / baseline_s:>9.1f}x  {verdict(build_s, BUILD_TARGET_S)} "
                 f"(< {BUILD_TARGET_S} s)")  # fmt: skip
    lines.append(f"{'  of it CPU time in this process':<44}{build_cpu:>10.2f} s")
    lines.append(f"{'build_warehouse incremental (1 % changed)':<44}{incremental_s:>10.2f} s  "
                 f"{incremental_s / baseline_s:>9.1f}x  {verdict(incremental_s, BUILD_TARGET_S)} "
                 f"(extract {incremental['seconds_extract']} s, marts {incremental['seconds_marts']} s, "
                 f"CPU {incremental_cpu:.2f} s)")  # fmt: skip
    marts_s = summary["seconds_extract"] + summary["seconds_marts"]
    lines.append(f"{'  extraction + marts (summary)':<44}{marts_s:>10.2f} s  {marts_s / baseline_s:>9.1f}x  "
                 f"{verdict(marts_s, BUILD_TARGET_S)} (< {BUILD_TARGET_S} s)")  # fmt: skip
    lines.append(f"{'    extraction (COPY -> Parquet)':<44}{summary['seconds_extract']:>10.2f} s")
    lines.append(f"{'    dbt models and tests':<44}{summary['seconds_marts']:>10.2f} s")
    lines.append(f"load average during the run: {' / '.join(f'{v:.1f}' for v in os.getloadavg())} on "
                 f"{os.cpu_count()} cores (other developers' tests share them)")  # fmt: skip
    lines.append(f"{'baseline: same metrics by SQL on PostgreSQL':<44}{baseline_s:>10.2f} s  {1.0:>9.1f}x  "
                 "(ratio column = figure / baseline)")  # fmt: skip
    lines.append(f"{'title-only page (page baseline)':<44}{title_ms:>9.1f} ms")
    for page, ms in pages.items():
        lines.append(f"{'page ' + page:<44}{ms:>9.1f} ms  {ms / title_ms:>9.1f}x  "
                     f"{verdict(ms, PAGE_TARGET_MS)} (< {PAGE_TARGET_MS} ms)")  # fmt: skip
    for label, (own, children) in [("after seeding", memory_before), ("after build", memory_build),
                                   ("after baseline", memory_baseline), ("after pages", memory_pages)]:  # fmt: skip
        lines.append(f"peak memory {label:<16} this process {own:7.0f} MB, largest child {children:7.0f} MB")
    print("\n".join(lines))
    if marts_s >= BUILD_TARGET_S:
        print("\n".join(profile_build(committed_db, tmp_path / "profile")))
