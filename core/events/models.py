"""DomainEvent: the outbox row for a change; a relay may publish it (e.g. to Kafka) later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class DomainEvent(Base):
    __tablename__ = "domain_event"
    __table_args__ = (
        Index("ix_domain_event_unpublished", "id", postgresql_where="published_at IS NULL"),
        Index("ix_domain_event_aggregate", "aggregate_type", "aggregate_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    event_type: Mapped[str] = mapped_column(String(64))  # e.g. "patient.created"
    aggregate_type: Mapped[str] = mapped_column(String(64))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # ids and codes, never names
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
