"""The jobs the scheduler knows: name -> function, default cron schedule, description.

A job function takes ``(session, *, now, dry_run)`` and returns a dict of counts. It does not commit;
the runner owns the transaction. Later features register their jobs here (or through ``register``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import JobError

JobFunction = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", imported when the job runs
    cron: str  # default schedule; JOB_SCHEDULES overrides it
    description: str

    def function(self) -> JobFunction:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


_JOBS: dict[str, Job] = {}


def register(name: str, target: str, *, cron: str, description: str) -> None:
    """Make a job known to the scheduler and the status page."""
    _JOBS[name] = Job(name=name, target=target, cron=cron, description=description)


def get(name: str) -> Job:
    """Return the job called ``name`` or raise JobError listing the known jobs."""
    try:
        return _JOBS[name]
    except KeyError:
        known = ", ".join(sorted(_JOBS)) or "(none)"
        raise JobError(f"Job '{name}' is unknown; known jobs: {known}") from None


def get_all() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


register(
    "heartbeat",
    "core.operations.maintenance:heartbeat",
    cron="*/5 * * * *",
    description="Proves the scheduler is alive and reports the outbox depth.",
)
register(
    "maintenance",
    "core.operations.maintenance:prune_job_runs",
    cron="17 3 * * *",
    description="Deletes job-run records older than 90 days (audit rows are kept).",
)
register(
    "reactivate_searches",
    "core.patients.service:reactivate_due_searches",
    cron="10 0 * * *",
    description="Reactivates paused searches whose until-date has come.",
)
register(
    "unblock_therapists",
    "core.therapists.unblocking:unblock_expired",
    cron="5 * * * *",
    description="Unblocks therapists whose block until-date has come.",
)
register(
    "geocode_pending",
    "core.geo.pending:scheduled_run",
    cron="*/30 * * * *",
    description="Geocodes patients, therapists and practices without a usable location (address, else PLZ centroid).",
)
register(
    "run_matching",
    "core.matching.service:scheduled_run",
    cron="0 7 * * 1-5",  # working days before staff start: proposals are ready for review at 8
    description="Proposes inquiries for every waiting patient (replaces only unreviewed proposals).",
)
register(
    "follow_up",
    "core.communication.followup:scheduled_run",
    cron="15 8-17 * * 1-5",  # hourly in office hours: calls land in today's list, reminders in the send window
    description="Sends reminders, schedules phone calls and expires unanswered inquiries (follow-up ladder).",
)
register(
    "send_emails",
    "core.communication.sender:scheduled_run",
    cron="*/2 * * * *",  # the sender itself keeps to SEND_WINDOW and reports when it opens
    description="Sends due mail from the outbox by SMTP inside the sending window; retries, dead mail, doubt flags.",
)
register(
    "train_model",
    "core.models_registry.service:job",
    cron="40 3 * * 0",  # weekly, Sunday night: a week brings enough new answers to matter
    description="Trains the match model on the answered inquiries, evaluates it against the prior, registers it.",
)
register(
    "build_warehouse",
    "core.warehouse.build:job",
    cron="30 2 * * *",  # nightly, after the day's work and before the morning's matching run
    description="Builds the pseudonymised reporting warehouse (Parquet + DuckDB marts) and publishes it atomically.",
)
register(
    "check_audit",
    "core.audit.chain:scheduled_run",
    cron="40 2 * * *",  # nightly, before staff start: a broken chain is on the status page in the morning
    description="Recomputes the audit log's hash chain; fails naming the first altered, deleted or moved row.",
)
register(
    "retention",
    "core.patients.retention:scheduled_run",
    cron="50 2 * * *",  # nightly, when nobody works on the records it may anonymise
    description="Anonymises closed cases RETENTION_MONTHS after their search ended (like an Art. 17 erasure).",
)
register(
    "backup",
    "core.operations.backup:scheduled_run",
    cron="0 2 * * *",  # nightly, before the warehouse build and the retention job change anything
    description="Writes a checked pg_dump of the database to DATA_DIR/backups and keeps the newest BACKUP_KEEP.",
)
register(
    "relay_events",
    "core.events.relay:scheduled_run",
    cron="* * * * *",  # every minute; `python -m jobs.relay_events --follow` publishes within a second instead
    description="Publishes the domain-event outbox to Kafka (off unless KAFKA_BOOTSTRAP is set).",
)
register(
    "fetch_mail",
    "core.communication.inbound_fetch:scheduled_run",
    cron="*/5 * * * *",  # replies and bounces reach the inquiry's thread and "Heute" within minutes
    description="Fetches replies and delivery-failure reports over IMAP (or from the local catcher) onto inquiries.",
)
register(
    "status_updates",
    "core.communication.status_updates:scheduled_run",
    cron="0 9 * * 1",  # Monday morning, inside the sending window: patients hear from us once a week
    description="Queues the weekly status mail to every patient with an active search who wants it.",
)
