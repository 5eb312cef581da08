"""Each patient's path through the service, and the board of all searches by the step they are on.

The path has six steps: registered -> consents -> search -> inquiries -> answers -> placement. A step is
reached on a day (the first time it happened); the current step is the last one reached, and the days spent
in a step run from its day to the next step's day (to ``today`` for the current step). ``path`` is pure;
``patient_path`` and ``board`` read the days from the database. Example:

    path({"registered": date(2026, 11, 2), "consents": date(2026, 11, 4)}, today=date(2026, 11, 10))
    -> [Step("registered", reached_on=2.11., days=2, current=False), Step("consents", ..., days=6, current=True),
        Step("search", None, None, False), ...]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.errors import NotFound
from core.matching.models import Inquiry, InquiryItem, ItemOutcome, Placement
from core.messages import missing
from core.patients.models import Consent, ConsentKind, Patient, Search, SearchStatus

STEPS = ("registered", "consents", "search", "inquiries", "answers", "placement")
BOARD_STEPS = STEPS[2:]  # a search exists from the "search" step on
NOT_AN_ANSWER = (ItemOutcome.PENDING, ItemOutcome.WITHDRAWN)  # withdrawn: nobody answered, another place won


@dataclass(frozen=True)
class Step:
    name: str
    reached_on: date | None
    days: int | None  # days spent in this step (so far, for the current one); None if not reached
    current: bool


def path(reached: Mapping[str, date | None], *, today: date) -> list[Step]:
    """Return the six steps with the days spent in each, from the day each step was reached.

    A later step implies the earlier ones: an earlier step without a day (consents withdrawn since, say) or
    with a later day (consents granted again after the search started) takes the next step's day.
    """
    days: list[date | None] = [reached.get(name) for name in STEPS]
    last = max((i for i, day in enumerate(days) if day is not None), default=-1)
    for i in range(last - 1, -1, -1):
        following = days[i + 1]
        days[i] = following if days[i] is None else min(days[i], following)
    steps = []
    for i, (name, day) in enumerate(zip(STEPS, days, strict=True)):
        if i > last or day is None:
            steps.append(Step(name, None, None, False))
            continue
        until = days[i + 1] if i < last else today
        steps.append(Step(name, day, max((until - day).days, 0), i == last))
    return steps


def current_step(steps: list[Step]) -> str | None:
    """Return the name of the current step, or None if not even the registration is known."""
    return next((s.name for s in steps if s.current), None)


def _consents_on(session: Session, patient_ids: list[int]) -> dict[int, date]:
    """The day each patient had both consents (the later of the two grants still in force)."""
    rows = session.execute(
        select(Consent.patient_id, Consent.kind, func.min(Consent.granted_at))
        .where(Consent.patient_id.in_(patient_ids), Consent.withdrawn_at.is_(None))
        .group_by(Consent.patient_id, Consent.kind)
    ).all()
    granted: dict[int, dict[ConsentKind, date]] = {}
    for patient_id, kind, at in rows:
        granted.setdefault(patient_id, {})[kind] = clock.local_date(at)
    return {pid: max(kinds.values()) for pid, kinds in granted.items() if len(kinds) == len(ConsentKind)}


def _search_days(session: Session, search_ids: list[int]) -> dict[int, dict[str, date]]:
    """For each search: the day of its first sent inquiry, its first answer and its placement."""
    days: dict[int, dict[str, date]] = {sid: {} for sid in search_ids}
    if not search_ids:
        return days
    for search_id, sent_at in session.execute(
        select(InquiryItem.search_id, func.min(Inquiry.sent_at))
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .where(InquiryItem.search_id.in_(search_ids), Inquiry.sent_at.is_not(None))
        .group_by(InquiryItem.search_id)
    ):
        days[search_id]["inquiries"] = clock.local_date(sent_at)
    for search_id, answered_at in session.execute(
        select(InquiryItem.search_id, func.min(InquiryItem.answered_at))
        .where(
            InquiryItem.search_id.in_(search_ids),
            InquiryItem.answered_at.is_not(None),
            InquiryItem.outcome.not_in(NOT_AN_ANSWER),
        )
        .group_by(InquiryItem.search_id)
    ):
        days[search_id]["answers"] = clock.local_date(answered_at)
    for search_id, placed_on in session.execute(
        select(Placement.search_id, Placement.placed_on).where(Placement.search_id.in_(search_ids))
    ):
        days[search_id]["placement"] = placed_on
    return days


def _latest_searches(session: Session, patient_ids: list[int]) -> dict[int, Search]:
    """Each patient's latest search (the open one if there is one)."""
    latest: dict[int, Search] = {}
    for search in session.scalars(
        select(Search).where(Search.patient_id.in_(patient_ids)).order_by(Search.started_on, Search.id)
    ):
        latest[search.patient_id] = search  # ordered: the last one wins
    return latest


def patient_path(session: Session, *, patient_id: int, today: date) -> list[Step]:
    """Return the path of one patient, with their latest search."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(missing("patient", patient_id))
    search = _latest_searches(session, [patient_id]).get(patient_id)
    reached: dict[str, date | None] = {
        "registered": clock.local_date(patient.created_at),
        "consents": _consents_on(session, [patient_id]).get(patient_id),
    }
    if search is not None:
        reached["search"] = search.started_on
        reached.update(_search_days(session, [search.id])[search.id])
    return path(reached, today=today)


def board(
    session: Session,
    *,
    today: date,
    statuses: tuple[SearchStatus, ...] = (SearchStatus.ACTIVE, SearchStatus.PAUSED),
    region: str | None = None,
    min_waiting_days: int = 0,
) -> dict[str, list[dict[str, Any]]]:
    """Return the searches in ``statuses`` grouped by their current step, longest in the step first.

    ``region``: a PLZ prefix ("10"); ``min_waiting_days``: only searches started at least that many days ago.
    Each card: search_id, patient_id, reference, status, started_on, waiting_days, step_since, days_in_step.
    """
    query = (
        select(Search, Patient.reference, Patient.created_at)
        .join(Patient, Patient.id == Search.patient_id)
        .where(Search.status.in_(statuses), Patient.erased_at.is_(None))
    )
    if region:
        query = query.where(Patient.postcode.startswith(region))
    if min_waiting_days > 0:
        query = query.where(Search.started_on <= date.fromordinal(today.toordinal() - min_waiting_days))
    rows = session.execute(query).all()
    days = _search_days(session, [search.id for search, _, _ in rows])
    columns: dict[str, list[dict[str, Any]]] = {step: [] for step in BOARD_STEPS}
    for search, reference, created_at in rows:
        reached = {"registered": clock.local_date(created_at), "consents": search.started_on,
                   "search": search.started_on, **days[search.id]}  # fmt: skip
        ended = search.ended_on if search.status in (SearchStatus.SUCCESSFUL, SearchStatus.CANCELLED) else None
        steps = path(reached, today=ended or today)
        step = next(s for s in steps if s.current)
        columns[step.name].append(
            {
                "search_id": search.id,
                "patient_id": search.patient_id,
                "reference": reference,
                "status": search.status.value,
                "started_on": search.started_on,
                "waiting_days": ((ended or today) - search.started_on).days,
                "step_since": step.reached_on,
                "days_in_step": step.days,
            }
        )
    for cards in columns.values():
        cards.sort(key=lambda c: (-c["days_in_step"], c["reference"]))
    return columns
