"""The critical paths through a real PgBouncer in transaction pooling (DATABASE_URL points at the pooler).

In transaction mode a server connection belongs to a client only for one transaction: anything a client
leaves on its session (a session-level advisory lock, ``SET`` without ``LOCAL``) stays on a pooled server
connection and meets whichever client gets that connection next. These tests run login, patient edits,
job locks, the sender's claims and matching through Debian's pgbouncer (tests/support/pgbouncer.py), and
check that nothing is left behind on the pooled connections.
"""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg2
import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

import tests.support.sleepy_job  # noqa: F401 - registers the test jobs
from core.auth import service as auth
from core.auth import sessions
from core.communication import sender
from core.communication.catcher import MailCatcher
from core.communication.models import Email, EmailStatus
from core.config import get_settings, load_settings
from core.db import MIGRATION_LOCK, get_engine, migrate
from core.demo import seed
from core.errors import AuthenticationError, ConcurrentEdit
from core.matching.models import Inquiry, InquiryStatus
from core.operations import runner
from core.operations.models import JobStatus
from core.patients import residue
from core.patients import service as patients
from core.patients.models import Patient
from tests.conftest import TEST_DATABASE
from tests.support.pgbouncer import pgbouncer
from tests.support.postgres import free_port, with_database

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Berlin
TODAY = NOW.date()
PASSWORD = "korrekt pferd batterie"
STAFF = "anna@example.org"
WINDOWS = [{"weekday": d, "start": "08:00", "end": "13:00"} for d in range(5)]  # 25 h a week
POOL_SIZE = 10  # tests/support/pgbouncer.py: default_pool_size, the most server connections per database


@pytest.fixture(scope="module")
def bouncer(pg_admin_url):
    with pgbouncer(pg_admin_url) as running:
        yield running


@pytest.fixture
def pooled(bouncer, committed_db, monkeypatch) -> Engine:
    """The app's own engine (core.db.get_engine) with DATABASE_URL pointing at PgBouncer; committed data."""
    monkeypatch.setenv("DATABASE_URL", bouncer.url(TEST_DATABASE))
    get_settings.cache_clear()
    engine = get_engine()
    assert engine.url.port == bouncer.port
    yield engine
    engine.dispose()
    monkeypatch.undo()
    get_settings.cache_clear()


def pooled_settings(bouncer, name: str) -> list[str]:
    """Return setting ``name`` as seen by every server connection of the pool (all held at once to see each)."""
    clients = [psycopg2.connect(bouncer.url(TEST_DATABASE)) for _ in range(POOL_SIZE)]
    try:
        seen = []
        for client in clients:  # each client keeps its transaction open, so each one gets its own server
            with client.cursor() as cursor:
                cursor.execute(f"SHOW {name}")
                seen.append(cursor.fetchone()[0])
        return seen
    finally:
        for client in clients:
            client.close()


def advisory_locks(committed_db: Engine) -> list[tuple[int, int]]:
    """Return (classid, objid) of every advisory lock held on the server (read directly, not pooled)."""
    with committed_db.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT classid::int, objid::int FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
        ))]  # fmt: skip


def test_login__through_pgbouncer_signs_in_and_the_fifth_failure_locks(pooled):
    with Session(pooled) as db:
        auth.create_user(db, email="anna.schmidt@example.org", role="staff", password=PASSWORD)
        db.commit()
    with Session(pooled) as db:
        user = auth.authenticate(db, email="anna.schmidt@example.org", password=PASSWORD, now=NOW,
                                 lockout=timedelta(minutes=15))  # fmt: skip
        token, address = sessions.start(db, user=user, now=NOW), user.email
        db.commit()
    with Session(pooled) as db:
        assert sessions.check(db, token=token, now=NOW, timeout=timedelta(hours=1)).email == address
        db.commit()
    codes = []
    for _ in range(6):
        with Session(pooled) as db:
            try:
                auth.authenticate(db, email=address, password="falsch", now=NOW, lockout=timedelta(minutes=15))
            except AuthenticationError as error:
                codes.append(error.code)
            db.commit()  # what the login form does: keep the failure count
    assert codes == ["invalid"] * 4 + ["locked", "locked"]


def valid_patient() -> dict:
    return {
        "first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1991, 5, 17),
        "email": "lea.beispiel@example.org", "phone": "030 1234567", "street": "Lindenstraße 4",
        "postcode": "10115", "city": "Berlin", "insurance_type": "statutory", "insurance_name": "AOK",
        "symptoms": ["Ängste"], "availability": WINDOWS, "max_distance_km": 15, "transport_mode": "transit",
        "therapist_gender_wish": "any", "procedure_wishes": ["VT"], "setting_wish": "individual", "languages": ["de"],
    }  # fmt: skip


def test_patient_edit__through_pgbouncer_the_second_of_two_editors_is_refused(pooled):
    with Session(pooled) as db:
        patient_id = patients.create(db, data=valid_patient(), actor=STAFF, today=TODAY).id
        db.commit()
    with Session(pooled) as first, Session(pooled) as second:  # two staff members open the same form
        forms = [(p.version, patients.form_values(p)) for p in (first.get(Patient, patient_id),
                                                                second.get(Patient, patient_id))]  # fmt: skip
        first.commit(), second.commit()
        patients.update(first, patient_id=patient_id, version=forms[0][0], original=forms[0][1],
                        changes={"city": "Berlin-Mitte"}, actor="ben@example.org", today=TODAY)  # fmt: skip
        first.commit()
        with pytest.raises(ConcurrentEdit, match="changed meanwhile: city"):
            patients.update(second, patient_id=patient_id, version=forms[1][0], original=forms[1][1],
                            changes={"phone": "030 7654321"}, actor=STAFF, today=TODAY)  # fmt: skip
        second.rollback()
    with Session(pooled) as db:
        stored = db.get(Patient, patient_id)
        assert (stored.city, stored.phone) == ("Berlin-Mitte", "+49301234567")


def test_job_runner__through_pgbouncer_two_concurrent_runs_of_one_job_run_it_once(pooled, committed_db):
    start, runs = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        runs.append(runner.run_job("sleepy", engine=pooled))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r.status.value for r in runs) == ["skipped", "succeeded"]
    assert advisory_locks(committed_db) == []  # the lock ended with its run, on no pooled connection
    assert runner.run_job("sleepy", engine=pooled).status == JobStatus.SUCCEEDED  # free again for the next run


@pytest.fixture
def smtp(tmp_path):
    port = free_port()
    catcher = MailCatcher(tmp_path / "mailbox", port=port)
    catcher.start()
    yield port, tmp_path / "mailbox"
    catcher.stop()


def test_sender__through_pgbouncer_two_senders_never_send_the_same_mail(pooled, committed_db, smtp):
    port, mailbox = smtp
    with Session(pooled) as db:
        db.add_all(
            Email(template="status_update", to_address=f"praxis{i}@example.org", subject=f"Ihre Suche {i}",
                  body_text=f"Hallo {i}", body_html=f"<p>Hallo {i}</p>", status=EmailStatus.QUEUED,
                  message_id=f"<{uuid.uuid4().hex}@workbench.example.org>")
            for i in range(40)
        )  # fmt: skip
        db.commit()
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_user=None,
                             send_window="Mon-Sun 00:00-24:00 holidays=none")  # fmt: skip
    start, reports = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        reports.append(sender.send_due(pooled, now=NOW, settings=settings, batch_size=3))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    delivered = Counter(
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-ID"]
        for path in mailbox.glob("*.eml")
    )
    assert len(delivered) == 40
    assert max(delivered.values()) == 1  # no mail went out twice
    assert sum(r.sent for r in reports) == 40
    with Session(pooled) as db:
        assert set(db.execute(select(Email.status, Email.attempts)).all()) == {(EmailStatus.SENT, 1)}
    assert advisory_locks(committed_db) == []


def test_matching__through_pgbouncer_writes_proposals_and_a_rerun_replaces_them(pooled):
    with Session(pooled) as db:
        seed(db, therapists=200, patients=60, seed=11, today=date.today())
        db.commit()
    first = runner.run_job("run_matching", engine=pooled)
    assert first.status == JobStatus.SUCCEEDED, first.error
    with Session(pooled) as db:
        proposed = db.scalar(select(func.count()).where(Inquiry.status == InquiryStatus.PROPOSED))
    assert first.counts["inquiries"] == proposed > 0
    second = runner.run_job("run_matching", engine=pooled)
    assert second.status == JobStatus.SUCCEEDED, second.error
    with Session(pooled) as db:
        references = db.scalars(select(Inquiry.reference)).all()
    assert len(references) == len(set(references))  # references drawn under the pooled xact lock stay unique


def test_migrate__through_pgbouncer_leaves_no_migration_lock_on_a_busy_pool(pooled, committed_db, bouncer):
    """Another client takes the pooled connection each time migrate's connection is between transactions."""
    holders: list = []

    def busy_pool(conn, cursor, statement, parameters, context, executemany) -> None:
        if conn.connection.dbapi_connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            holder = psycopg2.connect(bouncer.url(TEST_DATABASE))
            holder.cursor().execute("SELECT 1")  # opens a transaction: holds the most recently freed server
            holders.append(holder)

    event.listen(pooled, "before_cursor_execute", busy_pool)
    try:
        migrate(pooled)
    finally:
        event.remove(pooled, "before_cursor_execute", busy_pool)
        for holder in holders:  # ended cleanly: their server connections go back to the pool
            holder.rollback()
            holder.close()
    assert (0, MIGRATION_LOCK) not in advisory_locks(committed_db)  # a next deploy's migration would wait forever


def test_erasure_compaction__through_pgbouncer_leaves_no_lock_timeout_on_pooled_connections(pooled, bouncer):
    notes = residue.compact_database(pooled, embedded=False)
    assert any(note.startswith("tables rewritten") for note in notes), notes
    assert set(pooled_settings(bouncer, "lock_timeout")) == {"0"}  # other clients keep the server's default


def test_erasure_compaction__through_pgbouncer_reports_a_busy_table_at_once(pooled, committed_db):
    with committed_db.connect() as reader, reader.begin():  # a long report reading the geocache meanwhile
        reader.execute(text("SELECT count(*) FROM geocache"))
        notes = residue.compact_database(pooled, embedded=False)
    assert [note for note in notes if note.startswith("table ")] == [
        "table geocache was not rewritten (busy: another transaction holds it); run VACUUM FULL geocache"
    ]


def test_pgbouncer__serves_the_test_database_in_transaction_mode(bouncer):
    psycopg2.connect(bouncer.url(TEST_DATABASE)).close()  # the pool exists once a client has asked for it
    admin = psycopg2.connect(with_database(bouncer.url(TEST_DATABASE), "pgbouncer"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SHOW POOLS")
        columns = [c.name for c in cursor.description]
        modes = {row[columns.index("database")]: row[columns.index("pool_mode")] for row in cursor.fetchall()}
    admin.close()
    assert modes.get(TEST_DATABASE) == "transaction"
