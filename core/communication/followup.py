"""The follow-up ladder (DESIGN 3.2): reminder, phone call, call attempts, expiry.

The decision is a pure function of an inquiry's state and ``now`` (``decide``); ``run`` is the scheduled
job ``follow_up`` that claims the open inquiries (FOR UPDATE SKIP LOCKED), decides for each and acts:

- sent, no answer FOLLOWUP_REMINDER_DAYS (local calendar days) after sending -> reminder mail
  (template "reminder"), inquiry -> reminded;
- reminded, no answer FOLLOWUP_CALL_DAYS after the reminder -> phone call in the next free 5-minute slot
  inside the practice's phone hours (``core.communication.calls``), inquiry -> call_scheduled;
- a practice without e-mail (contact channel "phone" or no address at all) is called instead of mailed: an
  approved inquiry at once, a sent one instead of the reminder;
- call_scheduled without a scheduled call: the last call was not reached -> the next call (up to
  FOLLOWUP_CALL_ATTEMPTS calls), then the inquiry expires and its pending items become ``no_answer``; after
  a wrong number nothing happens until staff correct it.

Example:
    decide(LadderState(status=InquiryStatus.SENT, sent_at=sent, ...), now=now, rules=Rules(7, 7, 3), tz=tz)
    -> Decision(action=Action.REMIND, due_on=date(2026, 12, 3))
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.communication import calls, outbox
from core.communication.inbound_failing import failing_addresses
from core.communication.models import CallStatus, Email, PhoneCall
from core.config import Settings, get_settings
from core.matching import answers, inquiries
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients.models import Search
from core.therapists.models import ContactChannel, Practice, Therapist

JOB_ACTOR = calls.JOB_ACTOR
# what the reminder and call steps read of a therapist and a practice (names, addresses, phone hours)
_THERAPIST_COLUMNS = (Therapist.id, Therapist.practice_id, Therapist.title, Therapist.first_name, Therapist.last_name,
                      Therapist.email, Therapist.phone_hours)  # fmt: skip
_PRACTICE_COLUMNS = (Practice.id, Practice.name, Practice.email_normalized, Practice.phone_hours,
                     Practice.contact_channel)  # fmt: skip
S = InquiryStatus
LADDER_STATUSES = (S.APPROVED, S.SENT, S.REMINDED, S.CALL_SCHEDULED)

ReminderStep = Callable[[Session, Inquiry, str, datetime], Email]


class Action(enum.StrEnum):
    WAIT = "wait"  # nothing due yet
    REMIND = "remind"
    CALL = "call"  # schedule the first or next call
    EXPIRE = "expire"
    BLOCKED = "blocked"  # wrong number: staff must correct the practice's phone number first
    NONE = "none"  # not on the ladder (answered, waiting for the sender, nothing pending)


@dataclass(frozen=True)
class Rules:
    reminder_days: int
    call_days: int
    call_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(settings.followup_reminder_days, settings.followup_call_days, settings.followup_call_attempts)


@dataclass(frozen=True)
class LadderState:
    status: InquiryStatus
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    has_email: bool = True
    pending_items: int = 1
    scheduled_calls: int = 0
    calls_made: int = 0  # calls with an outcome or failed (attempts used)
    last_call_outcome: str | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    due_on: date | None = None  # the local day the next step is (or was) due
    attempt: int | None = None  # the number of the call to schedule


def _due(moment: datetime | None, days: int, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() + timedelta(days=days) if moment else None


def decide(state: LadderState, *, now: datetime, rules: Rules, tz: str) -> Decision:
    """Return the ladder step due for ``state`` at ``now`` (see the module docstring)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    if state.pending_items == 0 or state.status not in LADDER_STATUSES:
        return Decision(Action.NONE)
    if state.status == S.APPROVED:
        return Decision(Action.NONE) if state.has_email else Decision(Action.CALL, today, 1)
    if state.status == S.SENT:
        due = _due(state.sent_at, rules.reminder_days, zone)
        if due is None or today < due:
            return Decision(Action.WAIT, due)
        return Decision(Action.REMIND, due) if state.has_email else Decision(Action.CALL, due, 1)
    if state.status == S.REMINDED:
        due = _due(state.reminded_at, rules.call_days, zone)
        if due is None or today < due:
            return Decision(Action.WAIT, due)
        return Decision(Action.CALL, due, 1)
    # call_scheduled
    if state.scheduled_calls:
        return Decision(Action.WAIT)
    if state.last_call_outcome == calls.CallOutcome.WRONG_NUMBER:
        return Decision(Action.BLOCKED)
    if state.calls_made >= rules.call_attempts:
        return Decision(Action.EXPIRE, today)
    return Decision(Action.CALL, today, state.calls_made + 1)


def _claim(session: Session, *, limit: int | None) -> list[Any]:
    """Lock the open inquiries; return the columns ``decide`` needs (rows: most inquiries only wait)."""
    query = (
        select(Inquiry.id, Inquiry.status, Inquiry.sent_at, Inquiry.reminded_at)
        .where(Inquiry.status.in_(LADDER_STATUSES))
        .order_by(Inquiry.id)
        .with_for_update(skip_locked=True, of=Inquiry)  # a colleague recording an answer keeps their inquiry
        .limit(limit)
    )
    return list(session.execute(query))


def _any(ids: list[int]):
    """``= ANY(array)``: one parameter for thousands of ids (an IN list binds and processes each one)."""
    return any_(bindparam(None, ids, type_=ARRAY(Integer)))


def load_states(session: Session, claimed: list[Any]) -> dict[int, LadderState]:
    """Build the ladder state of every claimed inquiry (Inquiry or a row with id, status, sent_at, reminded_at)
    with four set-based queries."""
    if not claimed:
        return {}
    ids = _any([inquiry.id for inquiry in claimed])
    pending = dict(
        session.execute(
            select(InquiryItem.inquiry_id, func.count())
            .where(InquiryItem.inquiry_id == ids, InquiryItem.outcome == ItemOutcome.PENDING)
            .group_by(InquiryItem.inquiry_id)
        ).all()
    )
    scheduled, made, last = {}, {}, {}
    for inquiry_id, status, outcome in session.execute(
        select(PhoneCall.inquiry_id, PhoneCall.status, PhoneCall.outcome)
        .where(PhoneCall.inquiry_id == ids, PhoneCall.status != CallStatus.CANCELLED)
        .order_by(PhoneCall.inquiry_id, PhoneCall.attempt, PhoneCall.id)
    ):
        if status == CallStatus.SCHEDULED:
            scheduled[inquiry_id] = scheduled.get(inquiry_id, 0) + 1
        else:
            made[inquiry_id] = made.get(inquiry_id, 0) + 1
            last[inquiry_id] = outcome
    addresses = {
        inquiry_id: None if channel == ContactChannel.PHONE else (therapist_email or practice_email)
        for inquiry_id, therapist_email, practice_email, channel in session.execute(
            select(Inquiry.id, Therapist.email, Practice.email_normalized, Practice.contact_channel)
            .join(Therapist, Therapist.id == Inquiry.therapist_id)
            .outerjoin(Practice, Practice.id == Inquiry.practice_id)
            .where(Inquiry.id == ids)
        )
    }
    bouncing = failing_addresses(session, set(addresses.values()))  # a bounced address counts as none
    email = {i: bool(a) and a.lower() not in bouncing for i, a in addresses.items()}
    return {
        inquiry.id: LadderState(
            status=inquiry.status,
            sent_at=inquiry.sent_at,
            reminded_at=inquiry.reminded_at,
            has_email=email.get(inquiry.id, False),
            pending_items=pending.get(inquiry.id, 0),
            scheduled_calls=scheduled.get(inquiry.id, 0),
            calls_made=made.get(inquiry.id, 0),
            last_call_outcome=last.get(inquiry.id),
        )
        for inquiry in claimed
    }


def send_reminder(session: Session, inquiry: Inquiry, to_address: str, now: datetime) -> Email:
    """Queue the reminder mail of ``inquiry`` through the outbox (template "reminder")."""
    context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=now)
    return outbox.enqueue(session, template="reminder", to_address=to_address, context=context, language="de",
                          inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, now=now,
                          actor=JOB_ACTOR)  # fmt: skip


def run(session: Session, *, now: datetime, dry_run: bool = False, settings: Settings | None = None,
        reminder: ReminderStep | None = None, limit: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Climb the ladder one step for every open inquiry that is due; return the counts per action."""
    settings = settings or get_settings()
    rules = Rules.from_settings(settings)
    claimed = _claim(session, limit=limit)
    states = load_states(session, claimed)
    counts: dict[str, Any] = {"claimed": len(claimed), "reminded": 0, "calls_scheduled": 0, "expired": 0,
                              "waiting": 0, "blocked": 0, "no_slot": 0, "busy": 0, "dry_run": dry_run}  # fmt: skip
    decisions = {row.id: decide(states[row.id], now=now, rules=rules, tz=settings.timezone) for row in claimed}
    acting_ids = [i for i, d in decisions.items() if d.action in (Action.REMIND, Action.CALL, Action.EXPIRE)]
    # the inquiries that move as ORM objects (locked above); the waiting ones are only counted
    loaded = {inquiry.id: inquiry for inquiry in session.scalars(select(Inquiry).where(Inquiry.id == _any(acting_ids)))}
    due: dict[Action, list[tuple[Inquiry, Decision]]] = {action: [] for action in Action}
    for row in claimed:  # in id order: calls get their slots in this order
        decision = decisions[row.id]
        due[decision.action].append((loaded.get(row.id, row), decision))
    counts["waiting"], counts["blocked"] = len(due[Action.WAIT]), len(due[Action.BLOCKED])
    # the therapists and practices of the mails and calls as rows of the columns the steps read (names,
    # addresses, phone hours): loading them as ORM objects was a fifth of the job
    acting = [inquiry for action in (Action.REMIND, Action.CALL) for inquiry, _d in due[action]]
    therapist_ids = list({inquiry.therapist_id for inquiry in acting})
    practice_ids = list({inquiry.practice_id for inquiry in acting if inquiry.practice_id})
    contacts = outbox.Contacts(
        therapists={t.id: t for t in session.execute(select(*_THERAPIST_COLUMNS)
                                                      .where(Therapist.id == _any(therapist_ids)))},
        practices={p.id: p for p in session.execute(select(*_PRACTICE_COLUMNS)
                                                    .where(Practice.id == _any(practice_ids)))},
    )  # fmt: skip
    counts["reminded"] = _remind(session, [inquiry for inquiry, _d in due[Action.REMIND]], now=now, rules=rules,
                                 settings=settings, reminder=reminder, contacts=contacts)  # fmt: skip
    counts["calls_scheduled"], counts["no_slot"] = _call(session, due[Action.CALL], now=now, settings=settings,
                                                         contacts=contacts)  # fmt: skip
    counts["expired"], counts["busy"] = _expire(session, [inquiry for inquiry, _d in due[Action.EXPIRE]], now=now)
    session.flush()
    return counts


def _remind(session: Session, due: list[Inquiry], *, now: datetime, rules: Rules, settings: Settings,
            reminder: ReminderStep | None, contacts: outbox.Contacts) -> int:  # fmt: skip
    """Queue the reminder mails of ``due`` (rendered, one INSERT per table) and move them to 'reminded'."""
    if reminder is not None:  # a step of the caller's: one by one
        for inquiry in due:
            reminder(session, inquiry, contacts.recipient(session, inquiry), now)
        inquiries.move_all(session, [(i, {"after_days": rules.reminder_days}) for i in due], S.REMINDED,
                           actor=JOB_ACTOR, values={"reminded_at": now})  # fmt: skip
        return len(due)
    contexts = outbox.inquiry_contexts(session, inquiries=due, now=now, settings=settings, contacts=contacts)
    due = [inquiry for inquiry in due if inquiry.id in contexts]  # decide() saw a pending item: all of them
    mails = [(contacts.recipient(session, inquiry), contexts[inquiry.id],
              {"inquiry_id": inquiry.id, "therapist_id": inquiry.therapist_id}) for inquiry in due]  # fmt: skip
    outbox.enqueue_all(session, template="reminder", language="de", mails=mails, now=now, actor=JOB_ACTOR,
                       settings=settings)  # fmt: skip
    inquiries.move_all(session, [(i, {"after_days": rules.reminder_days}) for i in due], S.REMINDED,
                       actor=JOB_ACTOR, values={"reminded_at": now})  # fmt: skip
    return len(due)


def _call(session: Session, due: list[tuple[Inquiry, Decision]], *, now: datetime, settings: Settings,
          contacts: outbox.Contacts) -> tuple[int, int]:  # fmt: skip
    """Schedule the calls of ``due`` in free slots; move those not yet 'call_scheduled'. Return (booked, no slot)."""
    booked = calls.schedule_calls(session, calls=[(inquiry, d.attempt) for inquiry, d in due], after=now,
                                  actor=JOB_ACTOR, settings=settings, contacts=contacts)  # fmt: skip
    moves = [(inquiry, {"call_id": booked[inquiry.id][0]}) for inquiry, _d in due
             if booked[inquiry.id] is not None and inquiry.status != S.CALL_SCHEDULED]  # fmt: skip
    inquiries.move_all(session, moves, S.CALL_SCHEDULED, actor=JOB_ACTOR, values={"call_scheduled_at": now})
    made = sum(call is not None for call in booked.values())
    return made, len(due) - made


def _expire(session: Session, due: list[Inquiry], *, now: datetime) -> tuple[int, int]:
    """Expire ``due`` whose searches can be locked without waiting; return (expired, busy)."""
    if not due:
        return 0, 0
    items = session.execute(
        select(InquiryItem.inquiry_id, InquiryItem.search_id)
        .where(InquiryItem.inquiry_id.in_([inquiry.id for inquiry in due]), InquiryItem.outcome == ItemOutcome.PENDING)
    ).all()  # fmt: skip
    wanted: dict[int, set[int]] = {}
    for inquiry_id, search_id in items:
        wanted.setdefault(inquiry_id, set()).add(search_id)
    every = sorted(set().union(*wanted.values())) if wanted else []
    # answers lock searches first, so never wait for one: an inquiry with a busy search waits for the next run
    got = set(session.scalars(select(Search.id).where(Search.id.in_(every)).order_by(Search.id)
                              .with_for_update(skip_locked=True)))  # fmt: skip
    free = [inquiry for inquiry in due if wanted.get(inquiry.id, set()) <= got]
    answers.record_no_answers(session, due=free, actor=JOB_ACTOR, now=now, source="phone")
    return len(free), len(due) - len(free)


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The registered job ``follow_up``."""
    return run(session, now=now, dry_run=dry_run)
