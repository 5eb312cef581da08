"""The system status shown to admins: database, migrations, row counts, jobs, outbox.

Example: ``system_status(engine, settings, now=utcnow())["database"]["reachable"]`` -> True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.communication.models import Email, EmailStatus
from core.config import Settings
from core.db import current_revision
from core.db.models import metadata
from core.events import service as events
from core.operations import registry, runner, schedule


def system_status(engine: Engine, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """Return everything the status page shows; never raises for an unreachable database."""
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
    except SQLAlchemyError as exc:
        return {"database": {"reachable": False, "error": str(exc).splitlines()[0]}}
    with Session(engine) as session:
        rows = row_counts(session)
        last = runner.last_runs(session)
        outbox = {
            "domain_events": events.unpublished_count(session),
            "mail_waiting": session.scalar(
                select(func.count())
                .select_from(Email)
                .where(Email.status.in_([EmailStatus.QUEUED, EmailStatus.FAILED]))
            ),
            "mail_dead": session.scalar(
                select(func.count()).select_from(Email).where(Email.status == EmailStatus.DEAD)
            ),
        }
    cron = schedule.schedules(settings.job_schedules)
    jobs = []
    for job in registry.get_all():
        run = last.get(job.name)
        jobs.append(
            {
                "job": job.name,
                "description": job.description,
                "schedule": cron[job.name],
                "last_status": run.status.value if run else None,
                "last_started": run.started_at if run else None,
                "last_finished": run.finished_at if run else None,
                "last_error": (run.error or "").splitlines()[0] if run and run.error else None,
                "next_run": schedule.next_run(cron[job.name], settings.timezone, now),
            }
        )
    return {
        "database": {
            "reachable": True,
            "server_version": version,
            "embedded": is_embedded(settings),
            "revision": current_revision(engine),
        },
        "rows": rows,
        "jobs": jobs,
        "outbox": outbox,
    }


def database_problem(engine: Engine) -> str | None:
    """Return why the database does not answer (first line of the driver's message), or None if it does.

    Example: ``database_problem(engine)`` -> ``'connection to server on socket ".../.s.PGSQL.5432" failed'``
    """
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def row_counts(session: Session) -> dict[str, int]:
    """Return the number of rows of every table of the schema (exact counts; the tables are small)."""
    existing = set(inspect(session.get_bind()).get_table_names())
    counts = {}
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if table.name in existing:
            counts[table.name] = session.scalar(select(func.count()).select_from(table))
    return counts


def is_embedded(settings: Settings) -> bool:
    """Return True when the database is the embedded server in DATA_DIR (also when make run passes its URL)."""
    if settings.database_url is None:
        return True
    return str((settings.data_dir / "postgres").resolve()) in settings.database_url
