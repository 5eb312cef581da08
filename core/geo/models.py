"""Postcode centroids, the geocoding cache and the shared request slot of rate-limited services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, enum_column
from core.patients.models import LocationPrecision


class Postcode(Base):
    __tablename__ = "postcode"
    __table_args__ = (Index("ix_postcode_region", "region"),)

    plz: Mapped[str] = mapped_column(String(5), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(3))  # first three digits, the warehouse's location grain


class GeocacheEntry(Base):
    __tablename__ = "geocache"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(400), unique=True)  # normalised address
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[LocationPrecision] = mapped_column(enum_column(LocationPrecision, "location_precision"))
    source: Mapped[str] = mapped_column(String(32))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateLimitSlot(Base):
    """When an outside service was last asked, shared by every process that asks it (e.g. Nominatim: 1/s)."""

    __tablename__ = "rate_limit_slot"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_request_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
