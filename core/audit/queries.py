"""Read the audit log for the audit page: filters by actor, action, patient reference and date range, paged.

Example:
    page = search(session, filters=AuditFilters(actor="anna@example.org"), page=1, page_size=50)
    page["total"], page["rows"][0]["action"]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.audit.service import READ_PREFIX
from core.errors import ValidationError
from core.messages import Message
from core.patients.models import Patient, Search

READ_ACTIONS = READ_PREFIX  # the action filter's "every read" choice: a prefix


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # part of the actor (staff e-mail, "system", "job:...")
    action: str = ""  # an action or its prefix ("read." for every read)
    reference: str = ""  # a patient reference: its reads, its record's and its searches' changes
    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive
    timezone: str = "Europe/Berlin"  # days are the staff's calendar days


def search(session: Session, *, filters: AuditFilters, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    """Return one page of audit rows (newest first) matching ``filters``, with the total and the page count."""
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationError(
            Message(
                "filter.range_reversed",
                "The date range starts ({since:%d.%m.%Y}) after it ends ({until:%d.%m.%Y}); swap the dates",
                since=filters.since,
                until=filters.until,
            ),
            field="since",
        )
    conditions = _conditions(session, filters)
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    newest_first = select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
    rows = session.scalars(newest_first.offset((page - 1) * page_size).limit(page_size))
    return {"rows": [_row(e) for e in rows], "total": total, "page": page, "pages": pages}


def actions(session: Session) -> list[str]:
    """Return every action that occurs in the log, for the action filter."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def _conditions(session: Session, filters: AuditFilters) -> list[Any]:
    conditions: list[Any] = []
    if filters.actor.strip():
        conditions.append(AuditEvent.actor.icontains(filters.actor.strip(), autoescape=True))
    if filters.action.strip():
        action = filters.action.strip()
        if action.endswith("."):
            conditions.append(AuditEvent.action.startswith(action, autoescape=True))
        else:
            conditions.append(AuditEvent.action == action)
    tz = ZoneInfo(filters.timezone)
    if filters.since:
        conditions.append(AuditEvent.occurred_at >= datetime.combine(filters.since, time(), tz).astimezone(UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), tz).astimezone(UTC)
        conditions.append(AuditEvent.occurred_at < end)
    reference = filters.reference.strip().upper()
    if reference:
        shown = AuditEvent.details.contains({"references": [reference]})
        patient_id = session.scalar(select(Patient.id).where(Patient.reference == reference))
        if patient_id is None:
            conditions.append(shown)  # an erased or unknown patient: its reads may still be in the log
        else:
            searches = select(func.cast(Search.id, AuditEvent.entity_id.type)).where(Search.patient_id == patient_id)
            conditions.append(
                or_(
                    shown,
                    (AuditEvent.entity_type == "patient") & (AuditEvent.entity_id == str(patient_id)),
                    (AuditEvent.entity_type == "search") & AuditEvent.entity_id.in_(searches),
                )
            )
    return conditions


def _row(event: AuditEvent) -> dict[str, Any]:
    details = dict(event.details or {})
    return {
        "id": event.id,
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "action": event.action,
        "entity": f"{event.entity_type} {event.entity_id}" if event.entity_type else "",
        "references": details.pop("references", []),
        "page": details.pop("page", None),
        "details": details,
        "reason": event.reason,
    }
