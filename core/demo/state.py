"""The mutable state of the simulated history: practices, searches, inquiries, items and placements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.demo.candidates import Candidate
from core.demo.ladder import Plan
from core.demo.patients import PatientDraft

Row = dict[str, Any]


@dataclass(eq=False)
class PracticeState:
    row: Row
    responsiveness: float
    busy_until: datetime | None = None  # one open inquiry per practice: none before this moment
    cooldown_until: datetime | None = None
    recent: list[datetime] = field(default_factory=list)  # inquiry creation times, for the monthly cap

    @property
    def phone_only(self) -> bool:
        return self.row["contact_channel"] == "phone"


@dataclass(eq=False)
class PlacementState:
    key: int
    item: ItemState
    placed_at: datetime
    first_session_on: date
    confirmed_at: datetime | None = None
    therapy_end: str | None = None  # finished | aborted, after sessions had begun


@dataclass(eq=False)
class SearchState:
    key: int
    patient: PatientDraft
    started_at: datetime
    radius_km: float
    candidates: list[Candidate]
    cancel_at: datetime | None
    pause: tuple[datetime, datetime] | None
    relax_at: datetime | None
    status: str = "active"
    paused: bool = False
    relaxed: bool = False
    ended_at: datetime | None = None
    cancel_reason: str | None = None
    relaxations: list[dict[str, Any]] = field(default_factory=list)
    asked: set[int] = field(default_factory=set)  # therapist keys already in an inquiry for this search
    open_items: list[ItemState] = field(default_factory=list)
    placement: PlacementState | None = None


@dataclass(eq=False)
class InquiryState:
    key: int
    reference: str
    therapist: Row
    practice: PracticeState
    created_at: datetime
    override_reason: str | None
    items: list[ItemState] = field(default_factory=list)
    status: str = "proposed"  # only proposals, approvals and discards; sent inquiries read their plan
    plan: Plan | None = None
    approved_at: datetime | None = None
    closed_at: datetime | None = None
    mail_status: str | None = None  # today's approved or queued inquiries: where their first mail stands


@dataclass(eq=False)
class ItemState:
    key: int
    inquiry: InquiryState
    search: SearchState
    candidate: Candidate
    is_exploration: bool
    selection_probability: float | None
    outcome: str = "pending"
    answered_at: datetime | None = None
    answer_source: str | None = None
    answer_message: str | None = None
    proposed_first_session: date | None = None
    is_conflict: bool = False
    conflict_resolved_at: datetime | None = None
