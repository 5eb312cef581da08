"""The weekly status mail to patients: the scheduled job ``status_updates``.

Every patient with an active search, an e-mail address and ``wants_status_updates`` (on unless they turned
it off on Mein Stand) gets the "status_update" mail (practices asked, answers awaited, their Mein Stand link)
in their contact language, through the outbox. A patient who got one in the last STATUS_INTERVAL is skipped,
so a second run in the same week, by hand or after a crash, sends nothing twice. Erased and paused patients
get none. Example:

    send_weekly(session, now=now)  # -> {"due": 12, "queued": 12, "skipped_recent": 0, "failed": 0, ...}
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.communication import outbox
from core.communication.models import Email
from core.errors import WorkbenchError
from core.patients.models import Patient, Search, SearchStatus

ACTOR = "job:status_updates"
STATUS_INTERVAL = timedelta(days=6)  # weekly; a day's slack so a late Monday run still sends next Monday
# when the mail was due (the outbox sets next_attempt_at to the caller's now) or went out
queued_or_sent_at = func.coalesce(Email.sent_at, Email.next_attempt_at, Email.created_at)
_log = logging.getLogger(__name__)


def due_patient_ids(session: Session, *, now: datetime) -> tuple[list[int], int]:
    """Return (patients due a status mail, how many were skipped because they got one recently)."""
    candidates = set(session.scalars(
        select(Patient.id).join(Search, Search.patient_id == Patient.id)
        .where(Search.status == SearchStatus.ACTIVE, Patient.erased_at.is_(None), Patient.email.is_not(None),
               Patient.email != "", Patient.wants_status_updates.is_(True))
    ))  # fmt: skip
    recent = set(session.scalars(
        select(Email.patient_id).where(Email.template == "status_update", Email.patient_id.in_(candidates),
                                       queued_or_sent_at > now - STATUS_INTERVAL)
    )) if candidates else set()  # fmt: skip
    return sorted(candidates - recent), len(candidates & recent)


def send_weekly(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Queue the status mail for every due patient (one savepoint each: one bad record stops nobody)."""
    due, skipped = due_patient_ids(session, now=now)
    counts: dict[str, Any] = {"due": len(due), "queued": 0, "skipped_recent": skipped, "failed": 0, "dry_run": dry_run}
    if dry_run:
        return counts
    for patient_id in due:
        try:
            with session.begin_nested():
                context = outbox.patient_context(session, patient_id=patient_id, now=now)
                outbox.enqueue(session, template="status_update", to_address=context["to_address"], context=context,
                               language=context["language"], patient_id=patient_id, now=now, actor=ACTOR)  # fmt: skip
        except WorkbenchError as exc:  # e.g. an address that does not validate: logged by id, never by name
            counts["failed"] += 1
            _log.warning("status mail for patient %d not queued: %s", patient_id, type(exc).__name__)
            continue
        counts["queued"] += 1
    return counts


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The registered job ``status_updates``."""
    return send_weekly(session, now=now, dry_run=dry_run)
