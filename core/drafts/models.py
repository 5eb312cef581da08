"""Form drafts: the unsaved input of one form in one login session, sealed (it holds health data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class FormDraft(Base):
    """What a staff member typed into a form and has not saved yet; gone on save, logout or after a day."""

    __tablename__ = "form_draft"
    __table_args__ = (
        UniqueConstraint("login_session_id", "form_key", name="uq_form_draft_login_session_id_form_key"),
        Index("ix_form_draft_updated_at", "updated_at"),  # the purge looks for old drafts
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_session_id: Mapped[str] = mapped_column(
        ForeignKey("login_session.id", ondelete="CASCADE"), index=True
    )  # the login that typed it: another login, even of the same person, never sees it
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    form_key: Mapped[str] = mapped_column(String(100))  # patient_new, patient_edit:42, therapist_new
    sealed_values: Mapped[str] = mapped_column(Text)  # JSON of the field values, encrypted (core.auth.sealing)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
