"""Housekeeping jobs: the heartbeat and pruning of old job-run records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.communication.models import Email, EmailStatus
from core.events import service as events
from core.operations.models import JobRun

JOB_RUN_RETENTION = timedelta(days=90)  # long enough to see seasonal problems, short enough to stay small


def heartbeat(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Return the outbox depth: pending domain events and mails waiting to be sent."""
    waiting_mail = session.scalar(
        select(func.count()).select_from(Email).where(Email.status.in_([EmailStatus.QUEUED, EmailStatus.FAILED]))
    )
    return {"outbox_events": events.unpublished_count(session), "mail_waiting": waiting_mail}


def prune_job_runs(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Delete job-run rows older than the retention period."""
    cutoff = now - JOB_RUN_RETENTION
    old = select(func.count()).select_from(JobRun).where(JobRun.started_at < cutoff)
    count = session.scalar(old)
    if not dry_run:
        session.execute(delete(JobRun).where(JobRun.started_at < cutoff))
    return {"deleted": count if not dry_run else 0, "would_delete": count}
