"""Write domain events to the outbox in the caller's transaction.

Example:
    emit(session, "search.started", aggregate_type="search", aggregate_id=12, payload={"patient_id": 4})
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
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


def unpublished_count(session: Session) -> int:
    """Return how many events wait in the outbox."""
    return session.scalar(select(func.count()).select_from(DomainEvent).where(DomainEvent.published_at.is_(None)))
