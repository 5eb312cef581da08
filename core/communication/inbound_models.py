"""Inbound mail (replies and delivery-failure reports fetched over IMAP) and addresses known to bounce."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, enum_column


class InboundKind(enum.StrEnum):
    REPLY = "reply"  # a practice answered an inquiry mail
    BOUNCE = "bounce"  # a delivery-failure report (DSN) for one of our mails
    OTHER = "other"  # neither could be matched to a mail of ours: staff look at it


class InboundMail(Base):
    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_open", "handled_at", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # fetching twice stores once
    kind: Mapped[InboundKind] = mapped_column(enum_column(InboundKind, "inbound_kind"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    matched_by: Mapped[str | None] = mapped_column(String(16))  # reply_address, in_reply_to, subject
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry.id", ondelete="SET NULL"), index=True)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("email.id", ondelete="SET NULL"), index=True)  # answered
    failed_address: Mapped[str | None] = mapped_column(String(254))  # bounces: the recipient that failed
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None = open for staff
    handled_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = created_at_column()


class FailingAddress(Base):
    """A recipient address whose mail bounced: inquiries to it go to the phone instead until staff clear it."""

    __tablename__ = "failing_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id", ondelete="SET NULL"), index=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id", ondelete="SET NULL"), index=True)
    inbound_mail_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_mail.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
