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

from sqlalchemy import Connection, Engine, String, cast, desc, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.db import get_engine
from core.operations import registry
from core.operations.models import JobRun, JobStatus

_log = logging.getLogger(__name__)
LOCK_NAMESPACE = 7_244  # first key of the two-key advisory lock: "workbench jobs"
SKIPPED_ERROR = "already running elsewhere"
# job_run is written with plain SQL, not the ORM: a run must end 'failed', never 'running', even when the
# job broke the ORM of its process (mappers that fail to initialise fail every later ORM statement)
_runs = JobRun.__table__


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
    function: registry.JobFunction | None = None,
) -> JobRun:
    """Run job ``name`` if no other process runs it; return its job_run record.

    ``function`` replaces the registered function for this run (a command line with its own options, e.g.
    ``--region``); it takes the same ``(session, *, now, dry_run)`` and runs under the job's name and lock.
    A run that raises ends 'failed' with the error; KeyboardInterrupt and SystemExit go on after that.
    """
    job = registry.get(name)
    engine = engine or get_engine()
    with engine.connect() as lock_conn, lock_conn.begin():  # the lock lives exactly as long as this transaction
        if not _try_lock(lock_conn, name):
            return _record(engine, name, triggered_by, JobStatus.SKIPPED, error=SKIPPED_ERROR)
        _close_abandoned(engine, name)  # we hold the lock: a 'running' row of this job is a dead process's
        return _run_locked(engine, job, function, triggered_by=triggered_by, dry_run=dry_run, now=now)


def _try_lock(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": lock_key(name)}
        ).scalar()
    )


def _run_locked(
    engine: Engine,
    job: registry.Job,
    function: registry.JobFunction | None,
    *,
    triggered_by: str,
    dry_run: bool,
    now: datetime | None,
) -> JobRun:
    row = {"job_name": job.name, "status": JobStatus.RUNNING, "triggered_by": triggered_by, "counts": {},
           "host": socket.gethostname()[:100], "pid": os.getpid(), "started_at": utcnow()}  # fmt: skip
    with engine.begin() as conn:
        run_id = conn.execute(insert(_runs).values(row).returning(_runs.c.id)).scalar_one()
    interrupt: BaseException | None = None
    try:
        if triggered_by != "scheduler" and not dry_run:  # a dry run changes nothing, so nothing to audit
            with Session(engine) as session:  # committed on its own: the trigger stays audited if the job fails
                audit.record(session, actor=triggered_by, action="job.triggered", entity_type="job",
                             entity_id=job.name)  # fmt: skip
                session.commit()
        function = function or job.function()  # inside: a job that cannot be imported is a failed run too
        with Session(engine, expire_on_commit=False) as session:
            counts = function(session, now=now or utcnow(), dry_run=dry_run)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        status, error = JobStatus.SUCCEEDED, None
    except BaseException as exc:  # a failing job is recorded, never crashes the scheduler
        if isinstance(exc, Exception):
            _log.exception("job %s failed", job.name)
        else:  # Ctrl-C or SystemExit: record the run, then let it go on
            _log.warning("job %s interrupted (%s)", job.name, type(exc).__name__)
            interrupt = exc
        counts, status = {}, JobStatus.FAILED
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    with engine.begin() as conn:
        conn.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(status=status, error=error, counts=_jsonable(counts), finished_at=utcnow())
        )
    _log.info("job %s %s %s", job.name, status.value, counts)
    if interrupt is not None:
        raise interrupt
    with Session(engine, expire_on_commit=False) as session:
        return session.get(JobRun, run_id)


def _record(engine: Engine, name: str, triggered_by: str, status: JobStatus, *, error: str | None) -> JobRun:
    with Session(engine, expire_on_commit=False) as session:
        now = utcnow()
        run = JobRun(job_name=name, status=status, triggered_by=triggered_by, started_at=now, finished_at=now,
                     error=error, host=socket.gethostname()[:100], pid=os.getpid())  # fmt: skip
        session.add(run)
        session.commit()
    return run


def close_abandoned_runs(engine: Engine) -> int:
    """Mark 'failed' every 'running' run whose job nobody runs now (its process died); return how many.

    A process killed mid-run (SIGKILL, power loss, OOM) cannot finish its row. Its advisory lock ended with
    its connection, so a 'running' row of a job whose lock is free belongs to a dead process.
    """
    with engine.connect() as conn:
        names = conn.execute(select(_runs.c.job_name).distinct().where(_runs.c.status == JobStatus.RUNNING)).scalars()
        names = sorted(names)
    closed = 0
    for name in names:
        with engine.connect() as lock_conn, lock_conn.begin():
            if _try_lock(lock_conn, name):
                closed += _close_abandoned(engine, name)
    return closed


def _close_abandoned(engine: Engine, name: str) -> int:
    """Close the 'running' rows of job ``name``; only call while holding its lock."""
    process = func.concat("pid ", func.coalesce(cast(_runs.c.pid, String), "?"), " on ",
                          func.coalesce(_runs.c.host, "?"))  # fmt: skip
    message = func.concat(
        "abandoned: its process (",
        process,
        ") ended without finishing the run (killed or crashed); closed when the job next started",
    )
    with engine.begin() as conn:
        result = conn.execute(
            update(_runs)
            .where(_runs.c.job_name == name, _runs.c.status == JobStatus.RUNNING)
            .values(status=JobStatus.FAILED, finished_at=utcnow(), error=message)
        )
    if result.rowcount:
        _log.warning("job %s: closed %d run(s) left running by a process that died", name, result.rowcount)
    return result.rowcount


def _jsonable(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool | None) else str(v) for k, v in counts.items()}


def last_runs(session: Session) -> dict[str, JobRun]:
    """Return the newest run of every job that has run."""
    latest = {}
    for run in session.scalars(select(JobRun).order_by(desc(JobRun.started_at)).limit(500)):
        latest.setdefault(run.job_name, run)
    return latest
