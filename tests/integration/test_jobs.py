"""Job runner and scheduler: every run recorded, failures visible, never two runs of a job at once."""

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import tests.support.sleepy_job  # noqa: F401 - registers the test jobs
from core.audit.models import AuditEvent
from core.errors import ConfigError, JobError
from core.operations import runner, schedule
from core.operations.models import JobRun, JobStatus


def test_run_job__records_a_successful_run_with_counts(committed_db):
    run = runner.run_job("heartbeat", engine=committed_db)
    assert run.status == JobStatus.SUCCEEDED
    assert run.counts == {"outbox_events": 0, "mail_waiting": 0}
    assert run.finished_at >= run.started_at


def test_run_job__failure_is_recorded_with_the_error(committed_db):
    run = runner.run_job("failing", engine=committed_db)
    assert run.status == JobStatus.FAILED
    assert run.error.startswith("RuntimeError: disk full (simulated)")


def test_run_job__skipped_while_another_process_holds_the_lock(committed_db):
    # a transaction-level lock, like the runner's own: it ends with the transaction, so nothing leaks
    # into the connection pool for later tests
    with committed_db.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                      {"ns": runner.LOCK_NAMESPACE, "k": runner.lock_key("heartbeat")})  # fmt: skip
        run = runner.run_job("heartbeat", engine=committed_db)
    assert run.status == JobStatus.SKIPPED
    assert run.error == "already running elsewhere"
    assert runner.run_job("heartbeat", engine=committed_db).status == JobStatus.SUCCEEDED  # free again


def test_run_job__manual_trigger_is_audited(committed_db):
    runner.run_job("heartbeat", engine=committed_db, triggered_by="anna@example.org")
    with Session(committed_db) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.triggered")).one()
    assert (event.actor, event.entity_id) == ("anna@example.org", "heartbeat")


def test_run_job__unknown_job_lists_the_known_ones(committed_db):
    with pytest.raises(JobError, match=r"Job 'nope' is unknown; known jobs: .*heartbeat"):
        runner.run_job("nope", engine=committed_db)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("every 5 minutes", "needs 5 fields"),  # prose instead of cron
        ("61 * * * *", "is not a valid cron expression"),  # minute out of range
    ],
)
def test_schedule__bad_cron_expression_is_a_clear_error(expression, message):
    with pytest.raises(ConfigError, match=message):
        schedule.trigger_for(expression, "Europe/Berlin")


def test_schedule__override_for_an_unknown_job_is_refused():
    with pytest.raises(ConfigError, match="JOB_SCHEDULES names unknown job"):
        schedule.schedules({"hartbeat": "* * * * *"})


@pytest.mark.slow
def test_two_schedulers__never_run_the_same_job_concurrently(repo_root, committed_db):
    env = {**os.environ, "JOB_SCHEDULES": '{"sleepy": "* * * * * *"}'}
    command = [sys.executable, "-m", "jobs.scheduler", "--plugin", "tests.support.sleepy_job", "--only", "sleepy"]
    schedulers = [
        subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]

    def sleepy_runs() -> list[JobRun]:
        with Session(committed_db) as session:
            return session.scalars(select(JobRun).where(JobRun.job_name == "sleepy").order_by(JobRun.started_at)).all()

    try:  # both fire every second: wait for three finished runs and a skip, however slow the machine starts them
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = [r.status for r in sleepy_runs()]
            if statuses.count(JobStatus.SUCCEEDED) >= 3 and JobStatus.SKIPPED in statuses:
                break
            time.sleep(0.5)
    finally:
        for proc in schedulers:
            proc.send_signal(signal.SIGTERM)
        for proc in schedulers:
            proc.wait(timeout=30)
    runs = sleepy_runs()
    done = [r for r in runs if r.status == JobStatus.SUCCEEDED]
    skipped = [r for r in runs if r.status == JobStatus.SKIPPED]
    assert len(done) >= 3, [(r.status, r.pid) for r in runs]
    assert skipped, "both schedulers fired every second, so one of them must have found the lock taken"
    for earlier, later in itertools.pairwise(done):
        assert later.started_at >= earlier.finished_at, "two runs of the same job overlapped"
    assert {r.pid for r in runs} == {p.pid for p in schedulers}


def test_run_job__interrupted_run_is_recorded_failed_and_the_interrupt_goes_on(committed_db):
    import tests.support.interrupted_job  # noqa: F401 - registers the job

    with pytest.raises(KeyboardInterrupt):
        runner.run_job("interrupted", engine=committed_db)
    with Session(committed_db) as session:
        run = session.scalars(select(JobRun).where(JobRun.job_name == "interrupted")).one()
    assert run.status == JobStatus.FAILED
    assert run.error.startswith("KeyboardInterrupt")
    assert run.finished_at is not None


def _orphan(engine, job_name: str) -> int:
    """Store a run that a process left 'running' when it died; return its id."""
    with Session(engine) as session:
        run = JobRun(job_name=job_name, status=JobStatus.RUNNING, host="gone", pid=999_999, triggered_by="scheduler",
                     started_at=datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # fmt: skip
        session.add(run)
        session.commit()
        return run.id


def test_run_job__closes_a_run_left_running_by_a_process_that_died(committed_db):
    orphan_id = _orphan(committed_db, "heartbeat")
    run = runner.run_job("heartbeat", engine=committed_db)
    assert run.status == JobStatus.SUCCEEDED
    with Session(committed_db) as session:
        orphan = session.get(JobRun, orphan_id)
    assert orphan.status == JobStatus.FAILED
    assert orphan.finished_at is not None
    assert "ended without finishing" in orphan.error


def test_close_abandoned_runs__keeps_a_run_whose_process_still_holds_the_lock(committed_db):
    dead, alive = _orphan(committed_db, "heartbeat"), _orphan(committed_db, "sleepy")
    with committed_db.connect() as other, other.begin():  # "sleepy" is running in another process
        other.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                      {"ns": runner.LOCK_NAMESPACE, "k": runner.lock_key("sleepy")})  # fmt: skip
        closed = runner.close_abandoned_runs(committed_db)
    with Session(committed_db) as session:
        assert session.get(JobRun, dead).status == JobStatus.FAILED
        assert session.get(JobRun, alive).status == JobStatus.RUNNING
    assert closed == 1
