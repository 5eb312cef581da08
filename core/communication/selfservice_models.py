"""Capacity reports therapists send through their self-service link ("Kapazität melden")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column


class CapacityReport(Base):
    __tablename__ = "capacity_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"), index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepting: Mapped[bool] = mapped_column(Boolean)
    available_from: Mapped[date | None] = mapped_column(Date)  # first day a new patient can start
    hours_per_week: Mapped[int | None] = mapped_column(Integer)  # therapy hours free for new patients
    pref_age_min: Mapped[int | None] = mapped_column(Integer)
    pref_age_max: Mapped[int | None] = mapped_column(Integer)
    pref_patient_gender: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
