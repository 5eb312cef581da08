"""The scheduled job ``unblock_therapists``: lift blocks whose until-date has come.

A block "until 1 March" ends at the start of 1 March in the workbench's timezone (TIMEZONE setting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.therapists import service
from core.therapists.models import Therapist, TherapistStatus
from core.therapists.status import StatusAction

JOB_ACTOR = "job:unblock_therapists"


def unblock_expired(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Unblock every therapist whose block ran out on or before today; return how many."""
    today = now.astimezone(ZoneInfo(get_settings().timezone)).date()
    due = session.scalars(
        select(Therapist)
        .where(Therapist.status == TherapistStatus.BLOCKED, Therapist.status_until <= today)
        .order_by(Therapist.id)
        .with_for_update(skip_locked=True)  # a therapist a colleague is saving right now waits for the next run
    ).all()
    for therapist in due:
        service.change_status(
            session,
            therapist_id=therapist.id,
            action=StatusAction.UNBLOCK,
            reason=f"block ended on {therapist.status_until:%Y-%m-%d}",
            actor=JOB_ACTOR,
            today=today,
        )
    return {"unblocked": len(due), "dry_run": dry_run}
