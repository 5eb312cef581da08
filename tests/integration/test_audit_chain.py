"""The audit log's hash chain: ``python -m jobs.check_audit`` finds tampering; concurrent writers keep it whole."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit import chain
from core.audit import service as audit
from core.audit.models import AuditEvent
from core.operations import runner


def write_rows(engine, count: int, *, actor: str = "anna@example.org") -> list[int]:
    """Commit ``count`` audit rows, one transaction each, like pages and jobs do; return their ids."""
    ids = []
    for n in range(count):
        with Session(engine) as session:
            event = audit.record(session, actor=actor, action="patient.viewed", entity_type="patient", entity_id=n)
            session.commit()
            ids.append(event.id)
    return ids


def check_job(repo_root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.check_audit"], cwd=repo_root, env={**os.environ},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_record__chains_each_row_to_the_one_before(session):
    first = audit.record(session, actor="anna@example.org", action="login")
    second = audit.record(session, actor="anna@example.org", action="patient.viewed", entity_id=1)
    session.flush()
    assert len(second.row_hash) == 64
    assert second.prev_hash == first.row_hash
    assert second.id > first.id
    assert chain.verify(session).ok


def test_check_audit__passes_an_intact_chain(committed_db, repo_root):
    write_rows(committed_db, 5)
    result = check_job(repo_root)
    assert result.returncode == 0, result.stderr
    assert '"status": "succeeded"' in result.stdout


TAMPERING = {
    # each case changes the log the way someone with database access might, and names the row found broken
    "deleted": ("DELETE FROM audit_event WHERE id = :third", "third_next", "was deleted, or rows were reordered"),
    "altered": ("UPDATE audit_event SET actor = 'someone@else.org' WHERE id = :third", "third", "was altered or moved"),
    "reordered": (
        "UPDATE audit_event SET id = -1 WHERE id = :third; UPDATE audit_event SET id = :third WHERE id = :fourth;"
        " UPDATE audit_event SET id = :fourth WHERE id = -1",
        "third",
        "was altered or moved",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_check_audit__names_the_first_broken_row(case, committed_db, repo_root):
    ids = write_rows(committed_db, 6)
    statement, broken, explanation = TAMPERING[case]
    with committed_db.begin() as conn:
        conn.execute(text(statement), {"third": ids[2], "fourth": ids[3]})
    expected_row = ids[3] if broken == "third_next" else ids[2]

    result = check_job(repo_root)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Audit chain broken at row {expected_row} " in result.stderr
    assert explanation in result.stderr
    assert "restore audit_event from a backup" in result.stderr


def test_check_audit__finds_rows_deleted_from_the_end_after_a_passed_check(committed_db):
    ids = write_rows(committed_db, 4)
    assert runner.run_job("check_audit", engine=committed_db).status.value == "succeeded"
    with committed_db.begin() as conn:  # the newest rows, which no later row links to
        conn.execute(text("DELETE FROM audit_event WHERE id >= :last"), {"last": ids[-1]})

    run = runner.run_job("check_audit", engine=committed_db)

    assert run.status.value == "failed"
    assert f"Audit chain broken at row {ids[-1]}: it was the newest row" in run.error


def test_chain__stays_whole_with_writers_in_threads_and_processes(committed_db, repo_root):
    script = (
        "from sqlalchemy.orm import Session\n"
        "import core.db.models\nfrom core.db import get_engine\n"
        "from core.audit import service as audit\n"
        "for n in range(25):\n"
        "    with Session(get_engine()) as s:\n"
        "        audit.record(s, actor='proc@example.org', action='patient.viewed', entity_id=n)\n"
        "        s.commit()\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=repo_root, env={**os.environ}) for _ in range(2)]
    threads = [threading.Thread(target=write_rows, args=(committed_db, 25)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.wait(timeout=120) for p in processes] == [0, 0]

    with Session(committed_db) as session:
        assert session.scalar(select(func.count(AuditEvent.id))) == 150
        status = chain.verify(session)
        assert status.ok, status.problem
        assert status.rows_checked == 150


def test_chain__survives_a_deleted_staff_user(committed_db):
    from core.auth import service as auth

    with Session(committed_db) as session:
        user = auth.create_user(session, email="gone@example.org", role="staff", password="sehr geheimes passwort")
        session.flush()
        audit.record(session, actor=user.email, actor_id=user.id, action="login")
        session.commit()
        session.delete(user)  # the foreign key sets actor_id to NULL: a legitimate change, not tampering
        session.commit()
        assert chain.verify(session).ok


def test_scheduled_run__dry_run_records_no_check(session):
    audit.record(session, actor="system", action="login")
    counts = chain.scheduled_run(session, now=datetime.now(UTC), dry_run=True)
    assert counts["rows_checked"] >= 1
    assert chain.latest_check(session) is None
