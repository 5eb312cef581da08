"""Phone calls to practices: the 5-minute slot allocator, scheduling, and recording a call's outcome.

Slots: a call takes one 5-minute slot inside the practice's phone hours (the therapist's own hours, else
the practice's, in the normal form of ``core.therapists.phone_hours``; ``DEFAULT_PHONE_HOURS`` when neither
has any), on a working day (Monday to Friday, no German public holiday from the ``holidays`` package).
Staff make one call at a time, so no two scheduled calls share a slot, whichever practice they go to:
``next_free_slot`` is pure and skips every taken slot; ``schedule_call`` serialises allocations with a
transaction-scoped advisory lock so two processes never pick the same slot.

Outcomes (``record_outcome``):
- ``reached``: the per-patient answers go through ``core.matching.service.record_answer(source="phone")``
  with the patient's placement mail (as on the other answer paths); an offer for a patient placed meanwhile
  is a conflict, returned in ``conflict_item_ids`` so staff on the phone can say so at once;
- ``not_reached``: the call is marked failed and the next call is scheduled in the next free slot from the
  following day on, up to FOLLOWUP_CALL_ATTEMPTS calls; after the last one the inquiry expires and its
  pending items become ``no_answer``;
- ``wrong_number``: the therapist is flagged: a dated line "Telefonnummer falsch ..." is appended to the
  therapist's ``notes`` (audited as ``therapist.wrong_number``); no further call is scheduled until staff
  correct the number (the follow-up job then schedules one).

Example:
    slot = next_free_slot({"0": [["09:00", "10:00"]]}, taken=set(), after=now, tz="Europe/Berlin")
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.communication.dispatch import notify_placement
from core.communication.models import CallStatus, PhoneCall
from core.communication.outbox import Contacts
from core.config import Settings, get_settings
from core.db.locking import ensure_unchanged
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.matching import inquiries
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.queries import therapist_name
from core.messages import Message, missing, status
from core.patients.models import Patient, Search
from core.therapists.models import Practice, Therapist
from core.therapists.phone_hours import format_phone_hours

SLOT_MINUTES = 5
HORIZON_DAYS = 366  # how far ahead a free slot is looked for
DEFAULT_PHONE_HOURS: dict[str, list[list[str]]] = {str(day): [["09:00", "12:00"]] for day in range(5)}
ALLOCATION_LOCK = 0x6A0C_0001  # pg_advisory_xact_lock key serialising slot allocation
JOB_ACTOR = "job:follow_up"


class CallOutcome(enum.StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    WRONG_NUMBER = "wrong_number"


@lru_cache(maxsize=32)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.Germany(years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and no nationwide German public holiday. Example: date(2026, 12, 25) -> False."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def _clock(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def iter_slots(hours: Mapping[str, Any], *, after: datetime, tz: str, horizon_days: int = HORIZON_DAYS,
               slot_minutes: int = SLOT_MINUTES) -> Iterator[datetime]:  # fmt: skip
    """Yield the start (UTC) of every slot inside ``hours`` on working days from ``after`` on, in order."""
    zone = ZoneInfo(tz)
    start_local = after.astimezone(zone)
    step = timedelta(minutes=slot_minutes)
    for offset in range(horizon_days + 1):
        day = start_local.date() + timedelta(days=offset)
        if not is_working_day(day):
            continue
        for begin, end in sorted(hours.get(str(day.weekday()), [])):
            slot = datetime.combine(day, _clock(begin), zone)
            close = datetime.combine(day, _clock(end), zone)
            while slot + step <= close:
                if slot >= start_local:
                    yield slot.astimezone(UTC)
                slot += step


def next_free_slot(hours: Mapping[str, Any], *, taken: Collection[datetime], after: datetime, tz: str,
                   horizon_days: int = HORIZON_DAYS) -> datetime | None:  # fmt: skip
    """Return the first slot (UTC) at or after ``after`` inside ``hours`` that is not in ``taken``, else None.

    ``taken`` holds the start times of the scheduled calls (any timezone; compared as instants).
    """
    taken_utc = {moment.astimezone(UTC) for moment in taken}
    for slot in iter_slots(hours or DEFAULT_PHONE_HOURS, after=after, tz=tz, horizon_days=horizon_days):
        if slot not in taken_utc:
            return slot
    return None


class SlotAllocator:
    """Hand out free slots to many calls from one moment on, without double-booking: near-linear in the calls.

    Each distinct set of phone hours gets one cursor over its slots (``iter_slots``) that only moves forward:
    every slot it passed was taken, and taken slots stay taken within one allocation, so the next free slot
    for those hours is never behind the cursor. ``next_free_slot`` instead starts over for every call.
    """

    def __init__(self, taken: Collection[datetime], *, after: datetime, tz: str,
                 horizon_days: int = HORIZON_DAYS) -> None:  # fmt: skip
        self.taken = {moment.astimezone(UTC) for moment in taken}
        self._after, self._tz, self._horizon_days = after, tz, horizon_days
        self._cursors: dict[str, Iterator[datetime]] = {}

    def allocate(self, hours: Mapping[str, Any]) -> datetime | None:
        """Return and take the first free slot (UTC) inside ``hours``; None when the horizon is full."""
        hours = hours or DEFAULT_PHONE_HOURS
        key = json.dumps(hours, sort_keys=True)
        cursor = self._cursors.get(key)
        if cursor is None:
            cursor = iter_slots(hours, after=self._after, tz=self._tz, horizon_days=self._horizon_days)
            self._cursors[key] = cursor
        for slot in cursor:
            if slot not in self.taken:
                self.taken.add(slot)
                return slot
        return None


def hours_for(therapist: Therapist | None, practice: Practice | None) -> dict[str, list[list[str]]]:
    """The phone hours to call in: the therapist's, else the practice's, else DEFAULT_PHONE_HOURS."""
    if therapist is not None and therapist.phone_hours:
        return therapist.phone_hours
    if practice is not None and practice.phone_hours:
        return practice.phone_hours
    return DEFAULT_PHONE_HOURS


def taken_slots(session: Session) -> set[datetime]:
    """The start times of every scheduled call."""
    rows = session.scalars(select(PhoneCall.scheduled_for).where(PhoneCall.status == CallStatus.SCHEDULED))
    return {moment.astimezone(UTC) for moment in rows}


def schedule_call(
    session: Session,
    *,
    inquiry: Inquiry,
    after: datetime,
    attempt: int,
    actor: str,
    taken: set[datetime] | None = None,
    settings: Settings | None = None,
) -> PhoneCall | None:
    """Schedule the next call of ``inquiry`` in the first free slot from ``after``; None if there is none.

    ``taken`` may be passed (and is then updated) by a caller allocating many calls in one transaction.
    """
    settings = settings or get_settings()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALLOCATION_LOCK})
    if taken is None:
        taken = taken_slots(session)
    therapist = session.get(Therapist, inquiry.therapist_id)
    practice = session.get(Practice, inquiry.practice_id) if inquiry.practice_id else None
    slot = next_free_slot(hours_for(therapist, practice), taken=taken, after=after, tz=settings.timezone)
    if slot is None:
        return None
    call = PhoneCall(inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, scheduled_for=slot,
                     duration_minutes=SLOT_MINUTES, attempt=attempt, status=CallStatus.SCHEDULED)  # fmt: skip
    session.add(call)
    session.flush()
    taken.add(slot)
    audit.record(session, actor=actor, action="phone_call.scheduled", entity_type="phone_call", entity_id=call.id,
                 details={"inquiry_id": inquiry.id, "attempt": attempt, "scheduled_for": slot.isoformat()})  # fmt: skip
    events.emit(session, "phone_call.scheduled", aggregate_type="inquiry", aggregate_id=inquiry.id,
                payload={"call_id": call.id, "attempt": attempt, "scheduled_for": slot.isoformat()})  # fmt: skip
    return call


def schedule_calls(
    session: Session,
    *,
    calls: list[tuple[Inquiry, int]],
    after: datetime,
    actor: str,
    settings: Settings | None = None,
    contacts: Contacts | None = None,
) -> dict[int, tuple[int, datetime] | None]:
    """``schedule_call`` for many (inquiry, attempt) pairs in order: one lock, one slot search, bulk writes.

    Returns per inquiry id the new call's (id, slot), or None when no slot is free; writes the rows
    ``schedule_call`` writes one by one. Therapists and practices come from ``contacts``, else the session.
    """
    settings = settings or get_settings()
    contacts = contacts or Contacts()
    if not calls:
        return {}
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALLOCATION_LOCK})
    allocator = SlotAllocator(taken_slots(session), after=after, tz=settings.timezone)
    planned = []
    for inquiry, attempt in calls:
        therapist, practice = contacts.of(session, inquiry)
        planned.append((inquiry, attempt, allocator.allocate(hours_for(therapist, practice))))
    booked = [(inquiry, attempt, slot) for inquiry, attempt, slot in planned if slot is not None]
    result: dict[int, tuple[int, datetime] | None] = {inquiry.id: None for inquiry, _attempt, _slot in planned}
    if not booked:
        return result
    call_ids = list(session.scalars(
        insert(PhoneCall).returning(PhoneCall.id, sort_by_parameter_order=True),
        [{"inquiry_id": inquiry.id, "therapist_id": inquiry.therapist_id, "scheduled_for": slot,
          "duration_minutes": SLOT_MINUTES, "attempt": attempt, "status": CallStatus.SCHEDULED}
         for inquiry, attempt, slot in booked],
    ))  # fmt: skip
    audit.record_all(session, actor=actor, action="phone_call.scheduled", entity_type="phone_call", rows=[
        (call_id, {"inquiry_id": inquiry.id, "attempt": attempt, "scheduled_for": slot.isoformat()})
        for call_id, (inquiry, attempt, slot) in zip(call_ids, booked, strict=True)
    ])  # fmt: skip
    events.emit_all(session, "phone_call.scheduled", aggregate_type="inquiry", events=[
        (inquiry.id, {"call_id": call_id, "attempt": attempt, "scheduled_for": slot.isoformat()})
        for call_id, (inquiry, attempt, slot) in zip(call_ids, booked, strict=True)
    ])  # fmt: skip
    for call_id, (inquiry, _attempt, slot) in zip(call_ids, booked, strict=True):
        result[inquiry.id] = (call_id, slot)
    return result


def expire_inquiry(session: Session, *, inquiry: Inquiry, actor: str, now: datetime) -> list[int]:
    """Record ``no_answer`` for every pending item (the inquiry then expires); return the item ids."""
    pending = [item.id for item in inquiry.items if item.outcome == ItemOutcome.PENDING]
    for item_id in pending:
        matching.record_answer(session, item_id=item_id, outcome="no_answer", actor=actor, now=now, source="phone")
    return pending


def _get_call(session: Session, call_id: int) -> PhoneCall:
    call = session.scalar(
        select(PhoneCall).where(PhoneCall.id == call_id).with_for_update().execution_options(populate_existing=True)
    )
    if call is None:
        raise NotFound(missing("phone_call", call_id))
    return call


def _next_day_start(moment: datetime, tz: str) -> datetime:
    local = moment.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
    return datetime.combine(local, time(0, 0), ZoneInfo(tz))


def record_outcome(
    session: Session,
    *,
    call_id: int,
    outcome: str | CallOutcome,
    actor: str,
    now: datetime,
    answers: Mapping[int, str] | None = None,
    notes: str | None = None,
    expected_version: int | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Record what a scheduled call brought (see the module docstring); return what followed.

    ``answers`` maps inquiry item ids to outcomes (e.g. ``{7: "accepted", 8: "declined_capacity"}``) and is
    required for ``reached``. Returns e.g. ``{"call_id": 3, "outcome": "not_reached", "next_call_id": 4}``.
    """
    settings = settings or get_settings()
    try:
        result = CallOutcome(outcome)
    except ValueError:
        raise ValidationError(
            Message(
                "call.outcome_unknown",
                "Call outcome '{outcome}' is unknown; use one of reached, not_reached, wrong_number",
                outcome=outcome,
            ),
            field="outcome",
        ) from None
    call = _get_call(session, call_id)
    if expected_version is not None:
        ensure_unchanged(call, version=expected_version, original={"status": CallStatus.SCHEDULED})
    if call.status != CallStatus.SCHEDULED:
        raise ValidationError(
            Message(
                "call.not_scheduled",
                "Phone call {call} is already '{status}'; only scheduled calls take an outcome",
                call=str(call.id),
                status=status("call", call.status),
            ),
            field="outcome",
        )
    inquiry = inquiries.get(session, inquiry_id=call.inquiry_id) if call.inquiry_id else None
    if result == CallOutcome.REACHED and inquiry is not None:
        pending = {item.id for item in inquiry.items if item.outcome == ItemOutcome.PENDING}
        given = {int(k): v for k, v in (answers or {}).items() if v}
        unknown = set(given) - {item.id for item in inquiry.items}
        if unknown:
            raise ValidationError(
                Message(
                    "call.items_unknown",
                    "Items {items} are not part of inquiry {inquiry}",
                    items=", ".join(map(str, sorted(unknown))),
                    inquiry=inquiry.reference,
                ),
                field="answers",
            )
        if pending and not given:
            raise ValidationError(
                Message(
                    "call.answer_required",
                    "A reached call needs at least one answer, e.g. accepted or declined_capacity",
                ),
                field="answers",
            )
    follow: dict[str, Any] = {"call_id": call.id, "outcome": result.value, "next_call_id": None, "expired": False,
                              "conflict_item_ids": []}  # fmt: skip
    call.outcome, call.done_at, call.staff_user_id = result.value, now, actor_id
    call.notes = (notes or "").strip() or call.notes
    if result == CallOutcome.REACHED:
        call.status = CallStatus.DONE
        for item_id, answer in sorted(given.items()) if inquiry is not None else ():
            answered = matching.record_answer(
                session, item_id=item_id, outcome=answer, actor=actor, actor_id=actor_id, now=now, source="phone",
                settings=settings,
            )  # fmt: skip
            notify_placement(session, result=answered, actor=actor, now=now)
            if answered.is_conflict and answered.changed:
                follow["conflict_item_ids"].append(item_id)
    elif result == CallOutcome.NOT_REACHED:
        call.status = CallStatus.FAILED
        if inquiry is not None and inquiry.status == InquiryStatus.CALL_SCHEDULED:
            if call.attempt < settings.followup_call_attempts:
                after = max(now, _next_day_start(call.scheduled_for, settings.timezone))
                nxt = schedule_call(session, inquiry=inquiry, after=after, attempt=call.attempt + 1, actor=actor,
                                    settings=settings)  # fmt: skip
                follow["next_call_id"] = nxt.id if nxt else None
            else:
                expire_inquiry(session, inquiry=inquiry, actor=actor, now=now)
                follow["expired"] = True
    else:
        call.status = CallStatus.DONE
        therapist = session.get(Therapist, call.therapist_id) if call.therapist_id else None
        if therapist is not None:
            line = f"{now:%Y-%m-%d}: Telefonnummer falsch (Anruf {call.id}) / wrong phone number"
            therapist.notes = f"{therapist.notes}\n{line}" if therapist.notes else line
            audit.record(session, actor=actor, actor_id=actor_id, action="therapist.wrong_number",
                         entity_type="therapist", entity_id=therapist.id, details={"fields": ["notes"],
                                                                                   "call_id": call.id})  # fmt: skip
            events.emit(session, "therapist.wrong_number", aggregate_type="therapist", aggregate_id=therapist.id,
                        payload={"call_id": call.id})  # fmt: skip
    audit.record(session, actor=actor, actor_id=actor_id, action="phone_call.recorded", entity_type="phone_call",
                 entity_id=call.id, details={"outcome": result.value, "notes": call.notes is not None})  # fmt: skip
    events.emit(session, "phone_call.recorded", aggregate_type="inquiry", aggregate_id=call.inquiry_id or 0,
                payload={"call_id": call.id, "outcome": result.value})  # fmt: skip
    session.flush()
    return follow


def call_list(session: Session, *, day: date, tz: str, language: str = "de") -> list[dict[str, Any]]:
    """The scheduled calls of ``day`` (local) plus overdue ones from earlier days, in slot order.

    Each row: call_id, version, slot ("09:05"), overdue, scheduled_for, sent_on, attempt, inquiry_id,
    inquiry_reference, therapist, phone, hours (readable), patients ([{"item_id", "reference", "outcome"}]).
    """
    zone = ZoneInfo(tz)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    start = datetime.combine(day, time(0, 0), zone)
    rows = session.execute(
        select(PhoneCall, Therapist, Practice, Inquiry)
        .join(Therapist, Therapist.id == PhoneCall.therapist_id)
        .outerjoin(Practice, Practice.id == Therapist.practice_id)
        .outerjoin(Inquiry, Inquiry.id == PhoneCall.inquiry_id)
        .where(PhoneCall.status == CallStatus.SCHEDULED, PhoneCall.scheduled_for < end)
        .order_by(PhoneCall.scheduled_for, PhoneCall.id)
    ).all()
    inquiry_ids = [inquiry.id for _, _, _, inquiry in rows if inquiry is not None]
    patients: dict[int, list[dict[str, Any]]] = {}
    if inquiry_ids:
        for item_id, inquiry_id, reference, outcome in session.execute(
            select(InquiryItem.id, InquiryItem.inquiry_id, Patient.reference, InquiryItem.outcome)
            .join(Search, Search.id == InquiryItem.search_id)
            .join(Patient, Patient.id == Search.patient_id)
            .where(InquiryItem.inquiry_id.in_(inquiry_ids))
            .order_by(InquiryItem.id)
        ):
            patients.setdefault(inquiry_id, []).append(
                {"item_id": item_id, "reference": reference, "outcome": outcome.value}
            )
    result = []
    for call, therapist, practice, inquiry in rows:
        local = call.scheduled_for.astimezone(zone)
        result.append(
            {
                "call_id": call.id,
                "version": call.version,
                "slot": local.strftime("%H:%M"),
                "overdue": call.scheduled_for < start,
                "scheduled_for": local,
                "sent_on": inquiry.sent_at.astimezone(zone).date() if inquiry and inquiry.sent_at else None,
                "attempt": call.attempt,
                "inquiry_id": inquiry.id if inquiry else None,
                "inquiry_reference": inquiry.reference if inquiry else None,
                "therapist": therapist_name(therapist),
                "phone": therapist.phone or (practice.phone if practice else None),
                "hours": format_phone_hours(hours_for(therapist, practice), language=language),
                "patients": patients.get(inquiry.id, []) if inquiry else [],
            }
        )
    return result
