"""Calls to patients (status, missing data) with their outcome, and follow-up tasks with a due date.

These are separate from the calls to practices (``core.communication.models.PhoneCall``): a patient call is
logged after it happened, it has no slot and no ladder. A call's ``note`` and a task's ``note`` are free
text about a patient: personal data that never goes into logs, audit details, events or the warehouse,
and that erasure removes.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, enum_column, updated_at_column


class CallPurpose(enum.StrEnum):
    STATUS = "status"  # how is it going, is the search still wanted
    MISSING_DATA = "missing_data"  # insurance, availability, consent ... missing for the search to start
    OTHER = "other"


class PatientCallOutcome(enum.StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    WRONG_NUMBER = "wrong_number"
    CALLBACK_REQUESTED = "callback_requested"


class TaskKind(enum.StrEnum):
    CALL_BACK = "call_back"
    REQUEST_MISSING_DATA = "request_missing_data"
    CHECK_STATUS = "check_status"
    CHECK_PHONE = "check_phone"  # find the right number after a wrong one
    OTHER = "other"


class PatientCall(Base):
    __tablename__ = "patient_call"
    __table_args__ = (Index("ix_patient_call_patient_id_called_at", "patient_id", "called_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    purpose: Mapped[CallPurpose] = mapped_column(enum_column(CallPurpose, "patient_call_purpose"))
    outcome: Mapped[PatientCallOutcome] = mapped_column(enum_column(PatientCallOutcome, "patient_call_outcome"))
    note: Mapped[str | None] = mapped_column(Text)  # personal data: never in logs, events or the warehouse
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    called_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class FollowUpTask(Base):
    __tablename__ = "followup_task"
    __table_args__ = (
        Index("ix_followup_task_patient_id", "patient_id"),
        # "Heute" reads the open tasks by due date; done ones are history
        Index("ix_followup_task_open_due_on", "due_on", postgresql_where="done_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    search_id: Mapped[int | None] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("patient_call.id", ondelete="SET NULL"), index=True)
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind, "followup_task_kind"))
    note: Mapped[str | None] = mapped_column(Text)  # personal data, like a call's note
    due_on: Mapped[date] = mapped_column(Date)  # the service's local date (core.clock)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
