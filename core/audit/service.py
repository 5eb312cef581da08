"""Record audit events. The app only ever inserts into audit_event.

Example:
    record(session, actor="anna@example.org", action="login", entity_type="staff_user", entity_id=3)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent

SYSTEM_ACTOR = "system"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
) -> AuditEvent:
    """Add one audit event to the session (written with the caller's transaction)."""
    event = AuditEvent(
        actor=actor,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=details or {},
        reason=reason,
    )
    session.add(event)
    return event


def get_all(
    session: Session, *, entity_type: str | None = None, entity_id: int | str | None = None, limit: int = 200
) -> list[AuditEvent]:
    """Return the newest audit events, optionally for one record."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == str(entity_id))
    return list(session.scalars(query))
