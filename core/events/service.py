"""Write domain events to the outbox in the caller's transaction.

Example:
    emit(session, "search.started", aggregate_type="search", aggregate_id=12, payload={"patient_id": 4})
    emit_all(session, "email.queued", aggregate_type="email", events=[(7, {"template": "reminder"})])
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.events.models import DomainEvent


def emit(
    session: Session, event_type: str, *, aggregate_type: str, aggregate_id: int | str, payload: dict[str, Any]
) -> DomainEvent:
    """Add a domain event; it commits or rolls back together with the change it describes."""
    event = DomainEvent(
        event_type=event_type, aggregate_type=aggregate_type, aggregate_id=str(aggregate_id), payload=payload
    )
    session.add(event)
    return event


_EMIT_ALL = text(
    "INSERT INTO domain_event (event_type, aggregate_type, aggregate_id, payload) "
    "SELECT :event_type, :aggregate_type, aggregate_id, payload "
    "FROM unnest(CAST(:aggregate_ids AS text[]), CAST(:payloads AS jsonb[])) AS event (aggregate_id, payload)"
)


def emit_all(
    session: Session, event_type: str, *, aggregate_type: str, events: Iterable[tuple[int | str, dict[str, Any]]]
) -> None:
    """``emit`` for many aggregates at once, ``events`` holding (aggregate id, payload): one INSERT ... SELECT."""
    aggregate_ids, payloads = [], []
    for aggregate_id, payload in events:
        aggregate_ids.append(str(aggregate_id))
        payloads.append(json.dumps(payload))
    if aggregate_ids:
        session.flush()  # rows the session holds come first, as with the ORM insert
        session.execute(_EMIT_ALL, {"event_type": event_type, "aggregate_type": aggregate_type,
                                    "aggregate_ids": aggregate_ids, "payloads": payloads})  # fmt: skip


def unpublished_count(session: Session) -> int:
    """Return how many events wait in the outbox."""
    return session.scalar(select(func.count()).select_from(DomainEvent).where(DomainEvent.published_at.is_(None)))
