"""Record audit events. The app only ever inserts into audit_event (a trigger chains every row by hash).

Example:
    record(session, actor="anna@example.org", action="login", entity_type="staff_user", entity_id=3)
    record_read(session, actor="anna@example.org", what="patient_list", page="patients", references=["P-7K3F9Q"])
    record_all(session, actor="job:follow_up", action="email.queued", entity_type="email", rows=[(7, {"to": "x"})])
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text
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


_RECORD_ALL = text(
    "INSERT INTO audit_event (actor, actor_id, action, entity_type, entity_id, details, reason) "
    "SELECT :actor, CAST(:actor_id AS bigint), :action, :entity_type, entity_id, details, :reason "
    "FROM unnest(CAST(:entity_ids AS text[]), CAST(:details AS jsonb[])) AS row (entity_id, details)"
)


def record_all(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    rows: Iterable[tuple[int | str, dict[str, Any] | None]],
    reason: str | None = None,
    actor_id: int | None = None,
) -> None:
    """``record`` for many entities at once, ``rows`` holding (entity id, details): one INSERT ... SELECT, in order.

    For batch jobs: thousands of rows as two array parameters instead of one bound row each.
    """
    entity_ids, details = [], []
    for entity_id, detail in rows:
        entity_ids.append(str(entity_id))
        details.append(json.dumps(detail or {}))
    if entity_ids:
        session.flush()  # rows the session holds come first, as with the ORM insert
        session.execute(_RECORD_ALL, {"actor": actor, "actor_id": actor_id, "action": action,
                                      "entity_type": entity_type, "reason": reason, "entity_ids": entity_ids,
                                      "details": details})  # fmt: skip


READ_PREFIX = "read."  # actions of reads: read.patient_list, read.quick_search, read.mail, read.call_list


def record_read(
    session: Session,
    *,
    actor: str,
    what: str,
    page: str,
    references: list[str] | None = None,
    details: dict[str, Any] | None = None,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
    actor_id: int | None = None,
) -> AuditEvent:
    """Audit that ``actor`` saw personal data on ``page``: one row per view, naming references, never names.

    ``references`` are the pseudonymous patient references shown (P-7K3F9Q); the reason is the page.
    """
    return record(
        session,
        actor=actor,
        actor_id=actor_id,
        action=f"{READ_PREFIX}{what}",
        entity_type=entity_type,
        entity_id=entity_id,
        details={"page": page, "references": sorted(set(references or [])), **(details or {})},
        reason=f"page:{page}",
    )


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
