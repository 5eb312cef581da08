"""Run a job at most once at a time cluster-wide, and record every run in ``job_run``.

The lock is a PostgreSQL transaction-level advisory lock taken in a transaction that stays open on its own
connection for the whole run, so two schedulers on two machines never run the same job at once; the loser
records a ``skipped`` run. Transaction-level (not session-level) because the app may reach Postgres through
PgBouncer in transaction pooling, where a session lock could outlive the run on a pooled connection.

Example:
    run_job("heartbeat", triggered_by="anna@example.org")
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, desc, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.db import get_engine
from core.operations import registry
from core.operations.models import JobRun, JobStatus

_log = logging.getLogger(__name__)
LOCK_NAMESPACE = 7_244  # first key of the two-key advisory lock: "workbench jobs"


def lock_key(job_name: str) -> int:
    """Return a stable 32-bit advisory-lock key for a job name."""
    return zlib.crc32(job_name.encode()) & 0x7FFFFFFF


def utcnow() -> datetime:
    return datetime.now(UTC)


def run_job(
    name: str,
    *,
    triggered_by: str = "scheduler",
    dry_run: bool = False,
    engine: Engine | None = None,
    now: datetime | None = None,
) -> JobRun:
    """Run job ``name`` if no other process runs it; return its job_run record."""
    job = registry.get(name)
    engine = engine or get_engine()
    with engine.connect() as lock_conn, lock_conn.begin():  # the lock lives exactly as long as this transaction
        got_lock = lock_conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": lock_key(name)}
        ).scalar()
        if not got_lock:
            return _record(engine, name, triggered_by, JobStatus.SKIPPED, error="already running elsewhere")
        return _run_locked(engine, job, triggered_by=triggered_by, dry_run=dry_run, now=now)


def _run_locked(engine: Engine, job: registry.Job, *, triggered_by: str, dry_run: bool, now: datetime | None) -> JobRun:
    with Session(engine, expire_on_commit=False) as session:
        run = JobRun(job_name=job.name, status=JobStatus.RUNNING, triggered_by=triggered_by,
                     host=socket.gethostname()[:100], pid=os.getpid(), started_at=utcnow())  # fmt: skip
        session.add(run)
        if triggered_by != "scheduler":
            audit.record(session, actor=triggered_by, action="job.triggered", entity_type="job", entity_id=job.name)
        session.commit()
    try:
        with Session(engine, expire_on_commit=False) as session:
            counts = registry.run_function(job, session, now=now or utcnow(), dry_run=dry_run)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        status, error = JobStatus.SUCCEEDED, None
    except Exception as exc:  # a failing job is recorded, never crashes the scheduler
        _log.exception("job %s failed", job.name)
        counts, status = {}, JobStatus.FAILED
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(JobRun, run.id)
        run.status, run.error, run.counts, run.finished_at = status, error, _jsonable(counts), utcnow()
        session.commit()
    _log.info("job %s %s %s", job.name, status.value, counts)
    return run


def _record(engine: Engine, name: str, triggered_by: str, status: JobStatus, *, error: str | None) -> JobRun:
    with Session(engine, expire_on_commit=False) as session:
        now = utcnow()
        run = JobRun(job_name=name, status=status, triggered_by=triggered_by, started_at=now, finished_at=now,
                     error=error, host=socket.gethostname()[:100], pid=os.getpid())  # fmt: skip
        session.add(run)
        session.commit()
    return run


def _jsonable(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool | None) else str(v) for k, v in counts.items()}


def last_runs(session: Session) -> dict[str, JobRun]:
    """Return the newest run of every job that has run."""
    latest = {}
    for run in session.scalars(select(JobRun).order_by(desc(JobRun.started_at)).limit(500)):
        latest.setdefault(run.job_name, run)
    return latest
