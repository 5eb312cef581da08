"""Demo data: deterministic by seed and day, every state visible, synthetic contact data, the domain rules hold."""

import itertools
import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Enum, func, select, text
from sqlalchemy.orm import Session

from core.db.models import Patient, Postcode, Therapist, metadata
from core.demo import generate, seed
from core.demo.availability import draw_windows, weekly_hours
from core.demo.contacts import DRAMA_NUMBER_BLOCKS, MAIL_DOMAINS
from core.demo.generate import demo_now
from core.errors import ValidationError
from core.geo.postcodes import german_places
from core.matching.models import OPEN_INQUIRY_STATUSES

TODAY = date(2026, 3, 2)  # a Monday, fixed so that every run sees the same history
NOW = demo_now(TODAY)
# Staff accounts are people: `make run` creates the first admin only while staff_user is empty, so the
# demo must leave that table alone.
NOT_SEEDED = {("staff_user", "role"), ("login_session", "role")}  # accounts and logins are not demo data
ACCEPTED = "('accepted', 'no_show', 'in_sessions')"


def scalar(session: Session, sql: str) -> int:
    return session.execute(text(sql)).scalar_one()


def table_counts(session: Session) -> dict[str, int]:
    tables = ("practice", "therapist", "patient", "search", "inquiry", "email", "job_run", "audit_event")
    return {table: scalar(session, f"SELECT count(*) FROM {table}") for table in tables}


@pytest.fixture(scope="class")
def demo(engine):
    """One default-sized demo (3,000 therapists, 300 patients), seeded once per class and rolled back."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    started = time.perf_counter()
    counts = seed(db, therapists=3000, patients=300, seed=42, today=TODAY)
    elapsed = time.perf_counter() - started
    try:
        yield db, counts, elapsed
    finally:
        db.close()
        outer.rollback()
        connection.close()


class TestSeededDemo:
    """The default demo as `make run` loads it."""

    def test_seed__returns_the_rows_written_per_table(self, demo):
        db, counts, _ = demo
        assert counts["therapist"] == 3000
        assert counts["patient"] == 300
        for table, count in counts.items():
            assert scalar(db, f"SELECT count(*) FROM {table}") == count, table

    def test_seed__every_enum_value_appears(self, demo):
        db, _, _ = demo
        missing, checked = {}, 0
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, Enum) or (table.name, column.name) in NOT_SEEDED:
                    continue
                checked += 1
                seen = set(db.scalars(select(column).distinct()))
                absent = {str(value) for value in column.type.enums} - {str(value) for value in seen}
                if absent:
                    missing[f"{table.name}.{column.name}"] = sorted(absent)
        assert checked > 20  # statuses, genders, insurance, transport, precision, channels, sources, ...
        assert missing == {}

    def test_seed__therapists_sit_on_postcode_centroids(self, demo):
        db, _, _ = demo
        located = scalar(db, "SELECT count(*) FROM therapist WHERE latitude IS NOT NULL")
        on_centroid = scalar(
            db,
            "SELECT count(*) FROM therapist t JOIN postcode p ON p.plz = t.postcode"
            " WHERE t.latitude = p.latitude AND t.longitude = p.longitude",
        )
        assert located > 2900
        assert on_centroid == located
        assert scalar(db, "SELECT count(*) FROM therapist WHERE latitude IS NULL AND location_precision <> 'none'") == 0

    def test_seed__contact_details_reach_nobody(self, demo):
        db, _, _ = demo
        addresses = db.execute(
            text(
                "SELECT email FROM patient UNION SELECT email FROM therapist UNION"
                " SELECT email_normalized FROM practice UNION SELECT to_address FROM email"
            )
        ).scalars()
        domains = {address.rsplit("@", 1)[1] for address in addresses if address}
        assert domains == set(MAIL_DOMAINS)
        phones = db.execute(
            text("SELECT phone FROM patient UNION SELECT phone FROM therapist UNION SELECT phone FROM practice")
        ).scalars()
        for phone in filter(None, phones):
            assert re.fullmatch(r"\+49\d{9,13}", phone), phone
            assert phone.startswith(DRAMA_NUMBER_BLOCKS), phone
        websites = set(db.scalars(select(Therapist.website).where(Therapist.website.is_not(None))))
        assert all(site.startswith("https://www.example.com/") for site in websites)

    def test_seed__first_acceptance_wins(self, demo):
        db, _, _ = demo
        assert scalar(db, "SELECT count(*) FROM search WHERE status = 'successful'") > 0
        twice_accepted = scalar(
            db,
            f"SELECT count(*) FROM (SELECT search_id FROM inquiry_item WHERE outcome IN {ACCEPTED}"
            " GROUP BY search_id HAVING count(*) > 1) s",
        )
        assert twice_accepted == 0
        successful_without_one_placement = scalar(
            db,
            "SELECT count(*) FROM search s WHERE s.status = 'successful'"
            " AND (SELECT count(*) FROM placement p WHERE p.search_id = s.id) <> 1",
        )
        assert successful_without_one_placement == 0
        placed_but_not_successful = scalar(
            db,
            "SELECT count(*) FROM placement p JOIN search s ON s.id = p.search_id"
            " JOIN inquiry_item i ON i.id = p.inquiry_item_id"
            f" WHERE s.status <> 'successful' OR i.outcome NOT IN {ACCEPTED} OR i.search_id <> s.id",
        )
        assert placed_but_not_successful == 0
        still_open = scalar(
            db,
            "SELECT count(*) FROM inquiry_item i JOIN search s ON s.id = i.search_id"
            " WHERE s.status = 'successful' AND i.outcome = 'pending'",
        )
        assert still_open == 0
        # later acceptances for an already placed patient are conflicts, never a second acceptance
        assert scalar(db, "SELECT count(*) FROM inquiry_item WHERE is_conflict") > 0
        assert scalar(db, "SELECT count(*) FROM inquiry_item WHERE is_conflict AND outcome <> 'withdrawn'") == 0

    def test_seed__at_most_one_open_inquiry_per_practice(self, demo):
        db, _, _ = demo
        open_statuses = ", ".join(f"'{status.value}'" for status in OPEN_INQUIRY_STATUSES)
        crowded = scalar(
            db,
            f"SELECT count(*) FROM (SELECT practice_id FROM inquiry WHERE status IN ({open_statuses})"
            " GROUP BY practice_id HAVING count(*) > 1) p",
        )
        assert crowded == 0

    def test_seed__history_covers_six_months_before_today(self, demo):
        db, _, _ = demo
        first, last = db.execute(text("SELECT min(started_on), max(started_on) FROM search")).one()
        assert TODAY - timedelta(days=183) <= first < TODAY - timedelta(days=170)
        assert last == TODAY
        months = scalar(db, "SELECT count(DISTINCT date_trunc('month', started_on)) FROM search")
        assert months >= 6
        assert scalar(db, "SELECT count(*) FROM audit_event WHERE actor <> 'demo-seed'") == 0
        later = db.execute(text("SELECT count(*) FROM job_run WHERE started_at > :now"), {"now": NOW}).scalar_one()
        assert later == 0

    def test_seed__leaves_open_work_for_today(self, demo):
        db, _, _ = demo
        waiting = "SELECT count(*) FROM search s WHERE s.status = 'active'"
        assert scalar(db, waiting + " AND NOT EXISTS (SELECT 1 FROM inquiry_item i WHERE i.search_id = s.id)") > 0
        assert scalar(db, "SELECT count(*) FROM inquiry WHERE status = 'proposed'") > 0
        awaiting = "SELECT count(*) FROM inquiry q JOIN inquiry_item i ON i.inquiry_id = q.id"
        assert scalar(db, awaiting + " WHERE q.status = 'sent' AND i.outcome = 'pending'") > 0
        calls = text("SELECT count(*) FROM phone_call WHERE status = 'scheduled' AND scheduled_for > :now")
        assert db.execute(calls, {"now": NOW}).scalar_one() > 0

    def test_seed__patient_calls_leave_tasks_overdue_due_today_later_and_done(self, demo):
        db, counts, _ = demo
        assert counts["patient_call"] >= 8
        open_tasks = "SELECT count(*) FROM followup_task WHERE done_at IS NULL AND due_on"
        assert scalar(db, f"{open_tasks} < '{TODAY}'") >= 1  # overdue
        assert scalar(db, f"{open_tasks} = '{TODAY}'") >= 1  # on Heute today
        assert scalar(db, f"{open_tasks} > '{TODAY}'") >= 1
        assert scalar(db, "SELECT count(*) FROM followup_task WHERE done_at IS NOT NULL") >= 1
        assert scalar(db, "SELECT count(*) FROM followup_task WHERE call_id IS NOT NULL") >= 1
        assert scalar(db, "SELECT count(*) FROM patient WHERE wrong_phone IS NOT NULL AND wrong_phone = phone") >= 1
        later = text("SELECT count(*) FROM patient_call WHERE called_at > :now")
        assert db.execute(later, {"now": NOW}).scalar_one() == 0  # nothing called after the demo's "now"

    def test_seed__replies_and_a_bounce_sit_in_their_inquiries_threads(self, demo):
        db, counts, _ = demo
        rows = db.execute(
            text(
                "SELECT m.kind, m.inquiry_id, m.email_id, m.handled_at, m.received_at, e.inquiry_id AS mail_inquiry"
                " FROM inbound_mail m LEFT JOIN email e ON e.id = m.email_id ORDER BY m.id"
            )
        ).all()
        assert counts["inbound_mail"] == len(rows)
        kinds = [row.kind for row in rows]
        assert kinds.count("reply") >= 3
        assert kinds.count("bounce") == 1
        assert kinds.count("other") == 1  # a practice's mail that answers none of ours
        threaded = [row for row in rows if row.kind != "other"]
        assert all(row.inquiry_id is not None and row.inquiry_id == row.mail_inquiry for row in threaded)
        assert all(row.received_at <= NOW for row in rows)
        assert any(row.handled_at is None for row in rows if row.kind == "reply")  # open work on "Heute"
        assert any(row.handled_at is not None for row in rows if row.kind == "reply")
        [bounce] = [row for row in rows if row.kind == "bounce"]
        # the bounce did what a fetched one does: the address is failing, the inquiry went to the phone
        failing = scalar(db, "SELECT count(*) FROM failing_address WHERE cleared_at IS NULL")
        assert failing >= 1
        status = db.execute(text("SELECT status FROM inquiry WHERE id = :id"), {"id": bounce.inquiry_id}).scalar_one()
        assert status == "call_scheduled"

    def test_seed__records_are_consistent(self, demo):
        db, _, _ = demo
        for availability, hours in db.execute(select(Patient.availability, Patient.weekly_hours)):
            assert weekly_hours(availability) == pytest.approx(hours)
            assert not _overlapping(availability)
        references = set(db.scalars(select(Patient.reference)))
        assert all(re.fullmatch(r"P-[0-9A-Z]{6}", reference) for reference in references)
        assert all(re.fullmatch(r"A-\d{4}-\d{6}", ref) for ref in db.scalars(text("SELECT reference FROM inquiry")))
        sizes = set(db.scalars(text("SELECT count(*) FROM inquiry_item GROUP BY inquiry_id")))
        assert sizes <= set(range(1, 7))
        assert max(sizes) > 1  # some inquiries bundle several patients
        without_both_consents = scalar(
            db,
            "SELECT count(*) FROM search s WHERE (SELECT count(DISTINCT kind) FROM consent c"
            " WHERE c.patient_id = s.patient_id) <> 2",
        )
        assert without_both_consents == 0
        offering = {
            procedure: db.execute(
                text("SELECT count(*) FROM therapist WHERE procedures @> CAST(:entry AS jsonb)"),
                {"entry": json.dumps([{"procedure": procedure}])},
            ).scalar_one()
            for procedure in ("VT", "TP", "AP", "ST")
        }
        assert offering["VT"] > offering["TP"] > offering["AP"] > offering["ST"] > 0  # the German mix


def _overlapping(windows: list[dict]) -> bool:
    spans = sorted((w["weekday"], w["start"], w["end"]) for w in windows)
    return any(a[0] == b[0] and b[1] < a[2] for a, b in itertools.pairwise(spans))


@settings(max_examples=200, deadline=None)
@given(seed_value=st.integers(min_value=0, max_value=2**32), flexible=st.booleans())
def test_draw_windows__never_overlap_and_sum_to_weekly_hours(seed_value, flexible):
    windows = draw_windows(random.Random(seed_value), flexible=flexible)
    assert windows
    assert not _overlapping(windows)
    assert all(w["start"] < w["end"] for w in windows)
    assert 0 < weekly_hours(windows) <= 168


def test_generate__same_seed_and_day_give_identical_rows(session):
    postcodes = [dict(row) for row in session.execute(select(Postcode.__table__)).mappings()]
    places = german_places()

    def demo(seed_value: int, today: date):
        return generate(therapists=400, patients=60, seed=seed_value, today=today, postcodes=postcodes, places=places)

    first = demo(42, TODAY)
    assert first == demo(42, TODAY)
    other_seed = demo(7, TODAY)
    assert [t["last_name"] for t in other_seed["therapist"]] != [t["last_name"] for t in first["therapist"]]
    assert demo(42, TODAY + timedelta(days=1))["search"] != first["search"]


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"therapists": -5, "patients": 300}, "--therapists must be 0 or more, e.g. --therapists 3000 (got -5)"),
        ({"therapists": 3000, "patients": -1}, "--patients must be 0 or more, e.g. --patients 300 (got -1)"),
        ({"therapists": 100_001, "patients": 300}, "--therapists must be at most 100000, e.g. --therapists 3000"),
    ],
)
def test_seed__absurd_counts_are_refused_before_anything_is_written(session, counts, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        seed(session, **counts, seed=42, today=TODAY)
    assert set(table_counts(session).values()) == {0}


def test_seed__refuses_a_database_with_patients_unless_replace(session):
    seed(session, therapists=40, patients=15, seed=1, today=TODAY)
    with pytest.raises(ValidationError, match=r"already holds 15 patients and 40 therapists; run again with --replace"):
        seed(session, therapists=40, patients=15, seed=1, today=TODAY)

    counts = seed(session, therapists=30, patients=10, seed=2, today=TODAY, replace=True)

    assert counts["therapist"] == 30
    assert counts["inbound_mail"] == scalar(session, "SELECT count(*) FROM inbound_mail")  # the first demo's are gone
    assert table_counts(session)["therapist"] == 30
    assert table_counts(session)["patient"] == 10
    assert scalar(session, "SELECT count(*) FROM audit_event WHERE action = 'demo.seed'") == 1


def test_seed__replace_leaves_records_that_are_not_demo_data_alone(session):
    session.add(Patient(reference="P-REAL01", first_name="Ada", last_name="Beispiel", gender="female",
                        birth_date=date(1990, 1, 1), postcode="10115"))  # fmt: skip
    session.flush()
    with pytest.raises(ValidationError, match="1 patients and 0 therapists that are not demo data"):
        seed(session, therapists=10, patients=5, seed=1, today=TODAY, replace=True)
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


def run_cli(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.seed_demo", *args],
        cwd=repo_root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli__negative_count_exits_2_with_the_message_and_writes_nothing(committed_db, repo_root):
    result = run_cli(repo_root, "--therapists", "-5")
    assert result.returncode == 2
    assert "error: --therapists must be 0 or more, e.g. --therapists 3000" in result.stderr
    with Session(committed_db) as db:
        assert set(table_counts(db).values()) == {0}


@pytest.mark.slow
def test_cli__small_run_seeds_the_database(committed_db, repo_root):
    result = run_cli(repo_root, "--therapists", "60", "--patients", "20", "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert "demo data seeded (seed 42, today 2026-03-02)" in result.stdout
    assert re.search(r"therapist\s+60\n", result.stdout)
    with Session(committed_db) as db:
        assert db.scalar(select(func.count()).select_from(Therapist)) == 60
        assert db.scalar(select(func.count()).select_from(Patient)) == 20
