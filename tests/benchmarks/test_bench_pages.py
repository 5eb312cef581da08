"""Benchmark: server-side script time of the patient list and detail pages with 10,000 patients.

Run with `make bench`. Prints the median of several runs of each page and two baselines measured in the
same run: a page that only renders a title (Streamlit's own per-run cost) and the app shell (navigation and
the login gate, with a page that stops at once: the detail page without an id), and the ratios; the target
of DESIGN section 9 is under 300 ms per page, issue #13 asks for the detail page under 120 ms over the app
shell. Only the open tab of the detail page runs: it is measured on its first tab (Profil), and with the
map tab open separately. Also printed: this process's median CPU milliseconds per page (the script runs in it)
and the load average. Nothing here asserts a time: machines are shared and noisy.

Measured 2026-12-01 on the shared 2-core machine at load average 13.2: app shell 67 ms (27 ms CPU), patient
detail 159 ms (51 ms CPU), i.e. 92 ms over the shell (issue 13: under 120 ms); patients list 175 ms; map tab
638 ms (271 ms CPU: the nearby search and the filter check). Steps: with every tab drawing its widgets and
running its queries on each rerun, the detail page took 806 ms against a 272 ms shell (reported at the start of
this work, heavy load) and 1,160 ms against 130 ms in one profiled run (load 13); with only the open tab
running, 283 ms (73 ms CPU) against 83 ms (load 13.0); with the timeline and audit trail also read only in
their tabs, the figures above.

Quiet run, 2026-12-01 12:56 UTC, load average 1.1: app shell 35.4 ms, patient detail 94.1 ms, i.e. 58.8 ms over
the shell (issue 13: under 120 ms); patients list 87.4 ms; map tab 315.9 ms.
"""

import os
import statistics
import time
from datetime import date

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.auth import service as auth
from core.db import refresh_statistics, session_scope
from core.demo import seed
from core.patients.models import Patient, Search, SearchStatus
from tests.dashboards.conftest import open_page

TARGET_MS = 300
RUNS = 7


CPU: dict[str, float] = {}  # median CPU milliseconds of this process per measured page (the script runs in it)


def timed_runs(at: AppTest, runs: int = RUNS, name: str = "") -> float:
    """Return the median milliseconds of ``runs`` reruns of a warmed-up AppTest, each with empty data caches."""
    import streamlit as st

    samples, cpu = [], []
    for _ in range(runs):
        st.cache_data.clear()  # measure the database work, not a cache hit
        started, cpu_started = time.perf_counter(), time.process_time()
        at.run()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert not at.exception, at.exception
    CPU[name] = statistics.median(cpu)
    return statistics.median(samples)


def test_bench__patient_pages_with_10000_patients(committed_db, repo_root):
    started = time.perf_counter()
    with session_scope(committed_db) as session:
        counts = seed(session, therapists=3000, patients=10_000, seed=42, today=date.today())
        user = auth.create_user(session, email="bench@example.org", role="staff", password="benchmark passwort")
        user_id = user.id
        patient_id = session.scalar(
            select(Patient.id).join(Search).where(Search.status == SearchStatus.ACTIVE).order_by(Patient.id).limit(1)
        )
    refresh_statistics(committed_db)  # as make run and jobs.seed_demo do after the bulk load
    seconds = time.perf_counter() - started
    print(f"\nseeded {counts['patient']} patients, {counts['therapist']} therapists in {seconds:.1f} s")

    baseline = AppTest.from_string("import streamlit as st\nst.title('baseline')", default_timeout=60).run()
    baseline_ms = timed_runs(baseline, name="title-only")
    results = {}
    for name, file, query in [
        ("app shell", "patient.py", None),  # navigation + login gate; the page stops at "no patient chosen"
        ("patients list", "patients.py", None),
        ("patient detail", "patient.py", {"id": str(patient_id)}),
        ("detail, map tab", "patient.py", {"id": str(patient_id)}),
    ]:
        at = open_page(repo_root, file, user_id=user_id, email="bench@example.org", role="staff", query=query)
        assert not at.exception, at.exception
        if name == "detail, map tab":
            at.session_state[f"patient_tabs_{patient_id}"] = "Karte"  # the user opened the map tab
        at.run()
        results[name] = timed_runs(at, name=name)
    shell_ms = results.pop("app shell")
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms of this process (median): "
          + ", ".join(f"{name} {ms:.0f}" for name, ms in CPU.items()))  # fmt: skip
    print(f"baseline (title-only page): {baseline_ms:7.1f} ms")
    print(f"baseline (app shell)      : {shell_ms:7.1f} ms")
    for name, ms in results.items():
        verdict = "meets" if ms < TARGET_MS else "MISSES"
        print(f"{name:<16}: {ms:7.1f} ms  ratio to title-only {ms / baseline_ms:5.1f}x, to app shell "
              f"{ms / shell_ms:4.1f}x, {ms - shell_ms:6.1f} ms over the shell  "
              f"({verdict} the {TARGET_MS} ms target)")  # fmt: skip
    assert counts["patient"] == 10_000
