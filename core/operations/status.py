"""The system status shown to admins: database, migrations, row counts, jobs, outbox.

Example: ``system_status(engine, settings, now=utcnow())["database"]["reachable"]`` -> True
"""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.communication.models import Email, EmailStatus
from core.config import Settings
from core.db import current_revision
from core.db.models import metadata
from core.events import relay
from core.operations import registry, runner, schedule


def system_status(engine: Engine, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """Return everything the status page shows; never raises for an unreachable database."""
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
    except SQLAlchemyError as exc:
        return {
            "database": {"reachable": False, "error": str(exc).splitlines()[0]},
            "checks": configuration_checks(settings),
        }
    with Session(engine) as session:
        rows = row_counts(session)
        last = runner.last_runs(session)
        relay_lag = relay.lag(session)
        outbox = {
            "domain_events": relay_lag["unpublished"],
            "relay_enabled": relay_lag["enabled"],
            "oldest_unpublished_at": relay_lag["oldest_at"],
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
        "checks": configuration_checks(settings),
    }


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - names, not a bind
SMTP_PROBE_SECONDS = 2  # a mail server answers a TCP connect at once; longer means it is not there


def configuration_checks(settings: Settings) -> list[dict[str, Any]]:
    """Return whether outgoing mail reaches a listening server and answer links point at this app.

    Example: ``configuration_checks(settings)[0]`` ->
    ``{"check": "mail", "ok": True, "target": "127.0.0.1:1025", "catcher_port": 1025, "advice": ""}``
    """
    target = f"{settings.smtp_host}:{settings.smtp_port}"
    mail_ok = accepts_connections(settings.smtp_host, settings.smtp_port)
    mail_advice = (
        ""
        if mail_ok
        else f"Check SMTP_HOST/SMTP_PORT; for the local mail catcher leave SMTP_PORT empty or set it to "
        f"MAIL_CATCHER_PORT ({settings.mail_catcher_port})."
    )
    base = urlsplit(settings.public_base_url)
    base_port = base.port or (443 if base.scheme == "https" else 80)
    # a public name is a proxy we cannot see from here; a local address must be this app's port
    links_ok = (base.hostname or "") not in LOCAL_HOSTS or base_port == settings.app_port
    links_advice = (
        ""
        if links_ok
        else f"answer links point to {settings.public_base_url}, but the app runs on port {settings.app_port}; "
        "fix PUBLIC_BASE_URL or leave it empty (it then follows APP_PORT)."
    )
    return [
        {"check": "mail", "ok": mail_ok, "target": target, "catcher_port": settings.mail_catcher_port,
         "advice": mail_advice},
        {"check": "links", "ok": links_ok, "url": settings.public_base_url, "app_port": settings.app_port,
         "advice": links_advice},
    ]  # fmt: skip


def accepts_connections(host: str, port: int) -> bool:
    """Return True when a TCP connection to ``host:port`` succeeds now."""
    try:
        with socket.create_connection((host, port), timeout=SMTP_PROBE_SECONDS):
            return True
    except OSError:
        return False


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
