"""Inquiry (Therapeutenanfrage), InquiryItem (Anfrage-Patient) and Placement (Vermittlung).

The reply type of an inquiry is derived from its items (see ``reply_type``), never stored.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, created_at_column, enum_column, updated_at_column


class InquiryStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    QUEUED = "queued"
    SENT = "sent"
    REMINDED = "reminded"
    CALL_SCHEDULED = "call_scheduled"
    ANSWERED = "answered"
    EXPIRED = "expired"
    DISCARDED = "discarded"


OPEN_INQUIRY_STATUSES = (
    InquiryStatus.APPROVED,
    InquiryStatus.QUEUED,
    InquiryStatus.SENT,
    InquiryStatus.REMINDED,
    InquiryStatus.CALL_SCHEDULED,
)


class ItemOutcome(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED_CAPACITY = "declined_capacity"
    DECLINED_UNSUITABLE = "declined_unsuitable"
    DECLINED_OTHER = "declined_other"
    NO_ANSWER = "no_answer"
    NO_SHOW = "no_show"
    IN_SESSIONS = "in_sessions"
    WITHDRAWN = "withdrawn"  # another therapist accepted the patient first


class AnswerSource(enum.StrEnum):
    STAFF = "staff"
    LINK = "link"
    PHONE = "phone"
    EMAIL = "email"


class ReplyType(enum.StrEnum):
    FULL_ACCEPTANCE = "full_acceptance"
    PARTIAL_ACCEPTANCE = "partial_acceptance"
    FULL_DECLINE = "full_decline"
    NO_ANSWER = "no_answer"
    PENDING = "pending"


class Inquiry(Base):
    __tablename__ = "inquiry"
    __table_args__ = (
        Index("ix_inquiry_status", "status"),
        Index("ix_inquiry_practice_status", "practice_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. A-2026-000123
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id", ondelete="SET NULL"))
    status: Mapped[InquiryStatus] = mapped_column(enum_column(InquiryStatus, "inquiry_status"), default="proposed")
    matching_run: Mapped[str | None] = mapped_column(String(40))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # expired or discarded
    override_reason: Mapped[str | None] = mapped_column(Text)  # contact-limit override, audited
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[InquiryItem]] = relationship(back_populates="inquiry", order_by="InquiryItem.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reply_type(self) -> ReplyType:
        return reply_type([item.outcome for item in self.items])


def reply_type(outcomes: list[ItemOutcome]) -> ReplyType:
    """Derive an inquiry's reply type from its items' outcomes.

    Example: ``reply_type([ACCEPTED, DECLINED_CAPACITY])`` -> PARTIAL_ACCEPTANCE
    """
    relevant = [o for o in outcomes if o != ItemOutcome.WITHDRAWN]
    if not relevant or any(o == ItemOutcome.PENDING for o in relevant):
        return ReplyType.PENDING
    accepted = {ItemOutcome.ACCEPTED, ItemOutcome.NO_SHOW, ItemOutcome.IN_SESSIONS}
    n_accepted = sum(o in accepted for o in relevant)
    if all(o == ItemOutcome.NO_ANSWER for o in relevant):
        return ReplyType.NO_ANSWER
    if n_accepted == len(relevant):
        return ReplyType.FULL_ACCEPTANCE
    if n_accepted:
        return ReplyType.PARTIAL_ACCEPTANCE
    return ReplyType.FULL_DECLINE


class InquiryItem(Base):
    __tablename__ = "inquiry_item"
    __table_args__ = (
        UniqueConstraint("inquiry_id", "search_id", name="uq_inquiry_item_inquiry_search"),
        Index("ix_inquiry_item_search_outcome", "search_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id", ondelete="CASCADE"))
    search_id: Mapped[int] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"))
    outcome: Mapped[ItemOutcome] = mapped_column(enum_column(ItemOutcome, "item_outcome"), default="pending")
    score: Mapped[float | None] = mapped_column(Float)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    is_exploration: Mapped[bool] = mapped_column(Boolean, default=False)
    selection_probability: Mapped[float | None] = mapped_column(Float)
    distance_km: Mapped[float | None] = mapped_column(Float)
    # training data fixed at proposal time: the features the score used (FEATURE_COLUMNS, null = unknown)
    # and the model that scored; null for items staff added by hand
    features: Mapped[dict[str, float | None] | None] = mapped_column(JSONB(none_as_null=True))
    model_name: Mapped[str | None] = mapped_column(String(60))
    model_version: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer_source: Mapped[AnswerSource | None] = mapped_column(enum_column(AnswerSource, "answer_source"))
    answer_message: Mapped[str | None] = mapped_column(Text)
    proposed_first_session: Mapped[date | None] = mapped_column(Date)
    is_conflict: Mapped[bool] = mapped_column(Boolean, default=False)  # accepted after another acceptance
    conflict_resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    inquiry: Mapped[Inquiry] = relationship(back_populates="items")


class Placement(Base):
    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"), unique=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    inquiry_item_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_item.id", ondelete="SET NULL"), index=True)
    placed_on: Mapped[date] = mapped_column(Date)
    first_session_on: Mapped[date | None] = mapped_column(Date)
    first_session_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
