"""Benchmark: a nationwide directory import (issue 14) into a database that already holds 40,000 therapists.

Seeds PostgreSQL set-based with 40,000 therapists from an earlier import (directory ids, addresses at real
PLZ, directory listings), writes a 116117 search answer of 50,000 entries (30,000 known, every tenth of them
with a new phone number; 20,000 new; the other 10,000 known ones missing, so they are "not seen" where the
import covers their postcode), then imports it:
- the fast path, ``core.directory.service.commit``: streamed read, one query for what we hold, the diff in
  memory, set-based writes (jsonb_to_recordset), practices regrouped, committed; target under 30 s;
- its peak memory (tracemalloc) for reading and diffing the file (the preview), measured alone;
- the baseline, the same import row by row through the ORM (the same streamed reading, then one look-up and
  one object per entry, change rows as ORM objects), in a transaction that is rolled back, with the ratio.
  It runs on the whole file by default. With BENCH_DIRECTORY_BASELINE_SHARE=5 it runs on every fifth block of
  ten entries (10,000 entries, the same mix of new, changed and unchanged) and the output says so: the
  measured figures and their x5 extrapolation, which row by row work (a constant cost per entry) allows.

Each figure is printed as wall time and this process's CPU time (time.process_time), with the load average:
the machine is shared, wall times are noisy, the CPU time is the one to compare. The database server's own
work is in the wall time only. Only correctness is asserted (the counts); times are printed, never asserted.

Measured 2026-12-01, 16:31-16:35 UTC, quiet machine (load average 1.1), as `make bench` runs it (baseline on
the whole file): set-based commit 20.62 s wall, 11.35 s CPU of this process, peak 308 MiB; baseline row by
row through the ORM 162.6 s wall, 106.2 s CPU, measured at full size; 7.9x wall, 9.4x CPU.

Measured 2026-12-01, 16:22-16:24 UTC, quiet machine (load average 0.4 before the baseline, 0.8 before and 1.0
after the commit), BENCH_DIRECTORY_BASELINE_SHARE=5, the code below: set-based commit of all 50,000 entries
23.68 s wall, 12.61 s CPU of this process: the 30 s target is met. Baseline row by row on 10,000 entries
35.8 s wall, 22.6 s CPU; x5: 178.9 s wall, 113.0 s CPU; 7.6x wall, 9.0x CPU.

Measured 2026-12-01, 14:46-14:56 UTC, on the shared 2-core machine under heavy load (load average 17.8 before
the baseline, 25.1 before and 24.5 after the commit), BENCH_DIRECTORY_BASELINE_SHARE=5, after the round on this
process's CPU and the "seen" stamps:
- set-based commit of all 50,000 entries: 97.8 s wall, 12.7 s CPU of this process (was 22.0 s CPU in a run of
  the same code before this round at 14:05-14:15 UTC, load 18.7 before and 14.0 after: 152.1 s wall);
- peak memory (tracemalloc) of reading and diffing: 317 MiB, unchanged;
- baseline row by row on 10,000 entries: 196.4 s wall, 34.5 s CPU; x5: 982 s wall, 173 s CPU; 10.0x wall,
  13.6x CPU.
What changed (cProfile of ``commit`` and per-statement timing, both under load, so read as shares): the cycle
collector is paused during the import (it traversed the growing heap again and again: 3 of 9 s CPU of reading
the file); the phone check tries the fixed-line and mobile patterns first (8 failing patterns per number
before); offers (psy), tsz blocks and the merged hours of new practices are read once per distinct input
(memos compared with their definitions on random inputs in tests/unit/test_directory_fast_paths.py); street
spellings for the practice grouping are remembered (4 x 35,000 regex chains before). On the server, therapist
is kept at fillfactor 50 (revision 0017_imp): all 27,000 "seen" stamps are now HOT updates
(pg_stat_get_xact_tuples_hot_updated: 27,000 of 30,000 updates; 14,105 at fillfactor 70; at 100 the seeded
pages are packed full and leave no room for a HOT version), so the stamp statement went from 4-10 s to about
1 s at load 15. The audit chain trigger is unchanged (row by row).
No quiet machine was available for the wall time before the deadline: with about 7 s less CPU here and about
3 s less server time than the quiet run below, the commit should take about 20 s on a quiet machine (an
estimate, not a measurement).

Earlier, 2026-12-01, 11:48-11:53 UTC, on the shared 2-core machine (load average 5.7 before the baseline,
5.1 before and 4.1 after the commit), with BENCH_DIRECTORY_BASELINE_SHARE=5, after this round's database work:
- set-based commit of all 50,000 entries: 35.6 s wall, 19.4 s CPU of this process;
- peak memory (tracemalloc) of reading and diffing: 317 MiB for the 26 MiB file;
- baseline row by row, measured on 10,000 entries: 57.8 s wall, 25.1 s CPU; extrapolated x5: 289 s wall,
  126 s CPU; ratio 8.1x wall, 6.5x CPU.
The seeded listings now hold the consultation hours and details the file has, as an earlier import of the
same directory would have stored (they were empty, so every listing looked changed).
Where the server's time went, per statement (a throw-away script timing each statement of ``commit``, rolled
back), before -> after this round, at load about 5 both times: directory_listing upsert 4.6 -> 3.0 s (only the
20,000 new listings are written: a listing the import leaves as it is is neither rewritten nor locked); the
last-seen update 4.3 -> 4.0 s (27,000 rows instead of 30,000: a changed therapist is stamped by its one field
update); the 20,000-row practice update 3.4 s -> gone (ids are drawn first and each new therapist is inserted
with its practice); audit rows 6.6 + 2.7 s -> 5.2 + 3.0 s (unchanged in number: 20,000 created, 3,000 changed,
10,000 not seen, 20,000 placed; no audit row for a therapist who was only seen); change rows 3.6 -> 2.4 s.
Server statements in all: about 32 s -> 20-27 s. EXPLAIN (ANALYZE, BUFFERS) shows why row versions are dear:
a therapist row has 14 indexes, so updating 30,000 rows touches a million buffers (4.4 s), and the audit
chain trigger is 2.8 s of 4.1 s for 30,000 audit rows (one lock, sequence draw, head look-up and SHA-256 per
row; left as it is). The 30 s target is missed at load 5: 19.4 s is this process's CPU (reading and
normalising, the diff, grouping, serialising), the rest the server's.
Before (11:15-11:25 UTC, load 14-16, listings seeded empty): 102.9 s wall, 20.0 s CPU; baseline 987 s wall,
134 s CPU extrapolated x5; ratio 9.6x wall, 6.7x CPU.

Quiet run, 2026-12-01 12:49 UTC, load average 0.9 (nothing else running), BENCH_DIRECTORY_BASELINE_SHARE=5:
set-based commit 30.51 s wall, 20.15 s CPU (misses the 30 s target by half a second); baseline row by row
32.3 s wall / 21.3 s CPU on 10,000 entries, extrapolated x5 161.5 s wall / 106.6 s CPU; 5.3x; peak 317 MiB.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.directory import service as directory
from core.directory.entries import IMPORTED_FIELDS
from core.directory.models import DirectoryChange, DirectoryImport
from core.directory.reading import Source, read_sources
from core.therapists.models import Therapist

HELD = 40_000
KNOWN_IN_FILE = 30_000
NEW = 20_000
TODAY = date(2026, 12, 1)
TARGET_S = 30.0
# The baseline runs on the whole file (about 5-15 min alone on a quiet machine); BENCH_DIRECTORY_BASELINE_SHARE=5
# runs it on every fifth block of ten entries and prints the measured figures and the x5 extrapolation.
BASELINE_SHARE = int(os.environ.get("BENCH_DIRECTORY_BASELINE_SHARE", "1"))

SEED = """
SELECT setseed(0.14);
CREATE TEMP TABLE bench_plz AS SELECT row_number() OVER (ORDER BY plz) AS n, plz, latitude, longitude FROM postcode;
INSERT INTO therapist (first_name, last_name, gender, street, postcode, city, latitude, longitude, location_precision,
                       location_source, phone, procedures, languages, phone_hours, pref_patient_gender, pref_diagnoses,
                       statutory_licence, status, source, external_id, last_verified_on, last_seen_on,
                       staff_edited_fields, version)
SELECT 'Vorname' || g, 'Nachname' || g, 'female', 'Benchstraße ' || g, p.plz, 'Ort', p.latitude, p.longitude,
       'address', 'directory', '+4930' || (1000000 + g), '[{"procedure": "VT", "setting": "individual",
       "age_group": "adults"}]'::jsonb, ARRAY['de'], '{"0": [["09:00", "10:00"]]}'::jsonb, 'any', ARRAY[]::varchar[],
       true, 'active', '116117', 'B-' || g, DATE '2026-11-01', DATE '2026-11-01', ARRAY[]::varchar[], 1
FROM generate_series(1, :held) AS g JOIN bench_plz p ON p.n = 1 + (g * 7919) % (SELECT count(*) FROM bench_plz);
INSERT INTO directory_listing (therapist_id, consultation_hours, details, missed_imports, deactivated_by_import)
SELECT id, :hours, :details, 0, false FROM therapist;
"""
# what the earlier import stored: the consultation hours and details each entry of the file has (``entry`` below)
LISTED_HOURS = '{"consultation": {"0": [["10:00", "12:00"]]}}'
LISTED_DETAILS = json.dumps(
    {
        "accessibility": [],
        "specialties": [],
        "fields": [],
        "kv": None,
        "kvg": [],
        "doctor": None,
        "no_consultation_hours": False,
        "fax": None,
        "distance_m": None,
    }
)


def seed(engine) -> tuple[float, list[tuple[str, float, float]]]:
    started = time.perf_counter()
    with engine.begin() as conn, conn.connection.cursor() as cursor:
        seed_sql = SEED.replace(":held", str(HELD)).replace(":hours", f"'{LISTED_HOURS}'")
        cursor.execute(seed_sql.replace(":details", f"'{LISTED_DETAILS}'"))
    with engine.connect() as conn:
        order = "ORDER BY substr(external_id, 3)::int"  # B-1, B-2, ...: the places of the directory ids
        places = [tuple(p) for p in conn.execute(text(f"SELECT postcode, latitude, longitude FROM therapist {order}"))]
    return time.perf_counter() - started, places


def entry(n: int, plz: str, lat: float, lon: float, *, phone: str) -> dict:
    return {
        "id": f"B-{n}", "anrede": "Frau", "titel": "", "vorname": f"Vorname{n}", "name": f"Nachname{n}",
        "geschlecht": "W", "strasse": "Benchstraße", "hausnummer": str(n), "plz": plz, "ort": "Ort", "lat": lat,
        "lon": lon, "tel": phone, "email": "", "web": "",
        "psy": [{"heading": "Verhaltenstherapie", "values": ["Einzeltherapie Erwachsene"]}], "fs": [],
        "tsz": [{"d": "30.11.2026", "t": "Mo.", "typTsz": [{"typ": "07", "sprechzeiten": [{"z": "09:00 - 10:00"}]},
                                                           {"typ": "01", "sprechzeiten": [{"z": "10:00 - 12:00"}]}]}],
    }  # fmt: skip


def write_file(path: Path, places: list[tuple[str, float, float]], *, share: int = 1) -> None:
    """The search answer; with ``share`` > 1 every share-th block of ten entries (the same mix, 1/share of it)."""
    with path.open("w") as out:
        out.write('{"arztPraxisDatas": [\n')
        first = True
        for n in range(1, KNOWN_IN_FILE + 1):
            if (n - 1) // 10 % share:
                continue
            plz, lat, lon = places[n - 1]
            phone = f"030 {2000000 + n}" if n % 10 == 0 else f"030 {1000000 + n}"
            out.write(("" if first else ",\n") + json.dumps(entry(n, plz, lat, lon, phone=phone), ensure_ascii=False))
            first = False
        for n in range(HELD + 1, HELD + NEW + 1):
            if (n - HELD - 1) // 10 % share:
                continue
            plz, lat, lon = places[n % len(places)]
            out.write(",\n" + json.dumps(entry(n, plz, lat, lon, phone=f"030 {1000000 + n}"), ensure_ascii=False))
        out.write('\n], "moreResults": false}\n')


def row_by_row(session: Session, source: Source) -> dict[str, int]:
    """The baseline: the same import one entry at a time through the ORM (what a first version would do)."""
    batch = read_sources([source], mappings={})
    record = DirectoryImport(actor="bench", file_names=[source.name], imported_on=TODAY, covered_postcodes=[],
                             counts={}, report={})  # fmt: skip
    session.add(record)
    session.flush()
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    for item in batch.entries:
        therapist = session.scalars(select(Therapist).where(Therapist.external_id == item.external_id)).first()
        if therapist is None:
            therapist = Therapist(**item.values, source="116117", external_id=item.external_id, status="active",
                                  last_verified_on=TODAY, last_seen_on=TODAY)  # fmt: skip
            session.add(therapist)
            session.flush()
            session.add(DirectoryChange(import_id=record.id, therapist_id=therapist.id, kind="new", field="*",
                                        new_value=json.loads(json.dumps(item.values))))  # fmt: skip
            counts["new"] += 1
            continue
        changed = False
        for name in IMPORTED_FIELDS:
            old, new = getattr(therapist, name), item.values[name]
            old = getattr(old, "value", old)
            if new not in (None, "", [], {}) and old != new and name not in therapist.staff_edited_fields:
                session.add(DirectoryChange(import_id=record.id, therapist_id=therapist.id, kind="changed",
                                            field=name, old_value=old, new_value=new))  # fmt: skip
                setattr(therapist, name, new)
                changed = True
        therapist.last_verified_on = therapist.last_seen_on = TODAY
        counts["changed" if changed else "unchanged"] += 1
    session.flush()
    return counts


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clocks()
    return wall - started[0], cpu - started[1]


@pytest.mark.timeout(3600)  # the row-by-row baseline on a shared 2-core machine
def test_bench__import_50000_directory_entries_into_40000_therapists(committed_db, tmp_path):
    engine = committed_db
    seeded_s, places = seed(engine)
    path = tmp_path / "suche.json"
    write_file(path, places)
    source = Source.from_path(path)
    size_mib = path.stat().st_size / 2**20
    share = BASELINE_SHARE
    baseline_path = path if share == 1 else tmp_path / "suche-teil.json"
    if share > 1:
        write_file(baseline_path, places, share=share)

    with Session(engine) as session:  # the baseline first, rolled back: both start from the same database
        load_before = os.getloadavg()[0]
        started = _clocks()
        baseline = row_by_row(session, Source.from_path(baseline_path))
        baseline_s, baseline_cpu = _since(started)
        session.rollback()
    measured = sum(baseline.values())
    print(f"\nrow by row through the ORM, {measured:,} entries: {baseline_s:.1f} s wall, {baseline_cpu:.1f} s CPU "
          f"(load {load_before:.1f}) {baseline}", flush=True)  # fmt: skip

    with Session(engine) as session:
        tracemalloc.start()
        try:
            directory.preview(session, sources=[source], today=TODAY)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    with Session(engine) as session:
        load_before = os.getloadavg()[0]
        started = _clocks()
        record = directory.commit(session, sources=[source], actor="bench", today=TODAY)
        counts = dict(record.counts)
        session.commit()
        fast_s, fast_cpu = _since(started)
    load_after = os.getloadavg()[0]

    if share == 1:
        baseline_line = f"{baseline_s:6.1f} s wall, {baseline_cpu:.1f} s CPU (measured at full size)"
        full_s, full_cpu = baseline_s, baseline_cpu
    else:  # row by row costs the same per entry: the measured share, scaled, and said so
        full_s, full_cpu = baseline_s * share, baseline_cpu * share
        baseline_line = (
            f"{full_s:6.1f} s wall, {full_cpu:.1f} s CPU EXTRAPOLATED (x{share}) from {baseline_s:.1f} s wall, "
            f"{baseline_cpu:.1f} s CPU measured on 1/{share} of the file ({measured:,} entries, the same mix)"
        )
    print(
        f"\ndirectory import: {NEW + KNOWN_IN_FILE:,} entries ({size_mib:.0f} MiB JSON) into {HELD:,} therapists "
        f"(seeded in {seeded_s:.1f} s), load average {load_before:.1f} before, {load_after:.1f} after\n"
        f"  set-based commit (read, diff, write, regroup, commit): {fast_s:6.2f} s wall, {fast_cpu:.2f} s CPU of "
        f"this process ({'meets' if fast_s < TARGET_S else 'MISSES'} the {TARGET_S:g} s target)\n"
        f"  new {counts['new']:,}, changed {counts['changed']:,}, unchanged {counts['unchanged']:,}, "
        f"not seen {counts['not_seen']:,}\n"
        f"  peak memory (tracemalloc) of reading and diffing the file: {peak / 2**20:.0f} MiB\n"
        f"  baseline, row by row through the ORM: {baseline_line}\n"
        f"  row by row / set-based: {full_s / fast_s:.1f}x wall, {full_cpu / fast_cpu:.1f}x CPU"
    )
    assert (counts["new"], counts["changed"], counts["unchanged"]) == (
        NEW,
        KNOWN_IN_FILE // 10,
        KNOWN_IN_FILE * 9 // 10,
    )
    assert (baseline["new"], baseline["changed"]) == (NEW // share, KNOWN_IN_FILE // 10 // share)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Therapist)) == HELD + NEW
