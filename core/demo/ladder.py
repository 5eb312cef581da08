"""The follow-up ladder of DESIGN 3.2 on one timeline: sent, reminder after 7 days, calls after 14, expiry.

``plan_follow_up`` fixes every step of one inquiry when it is approved; ``status_at`` and ``calls_at``
tell what of that plan has happened by a given moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.demo.hours import CALL_SLOT, PhoneHours, next_call_slot
from core.demo.response import Fate

REMINDER_AFTER = timedelta(days=7)
CALL_AFTER = timedelta(days=14)
FIRST_CALL_DELAY = timedelta(hours=2)  # the call is planned into a later slot, never into the same minute
EMAIL_CALL_ATTEMPTS = 2
PHONE_CALL_ATTEMPTS = 3  # without e-mail the phone is the only channel, so it gets one more try
EXPIRE_AFTER_LAST_CALL = timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    """Every step of one inquiry's follow-up, fixed at approval."""

    approved_at: datetime
    sent_at: datetime | None  # None: phone-only practice, the inquiry is made by phone
    reminder_at: datetime | None
    call_scheduled_at: datetime | None
    calls: tuple[datetime, ...]
    answered_at: datetime | None
    answer_on_call: int | None
    expires_at: datetime | None

    @property
    def resolved_at(self) -> datetime:
        """When the inquiry is answered or expires."""
        return self.answered_at or self.expires_at  # type: ignore[return-value]


@dataclass(frozen=True)
class CallState:
    """One call attempt as it stands at a given moment."""

    attempt: int
    at: datetime
    status: str  # scheduled | done | failed | cancelled
    created_at: datetime


def plan_follow_up(fate: Fate, *, approved_at: datetime, sent_at: datetime | None, hours: PhoneHours) -> Plan:
    """Fix the ladder of one inquiry from its fate."""
    if sent_at is None:
        calls = _call_slots(hours, approved_at + FIRST_CALL_DELAY, PHONE_CALL_ATTEMPTS)
        if fate.answered:
            k = fate.call_attempt or 1
            return Plan(approved_at, None, None, approved_at, calls[:k], calls[k - 1] + CALL_SLOT, k, None)
        return Plan(approved_at, None, None, approved_at, calls, None, None, calls[-1] + EXPIRE_AFTER_LAST_CALL)
    reminder_at = sent_at + REMINDER_AFTER
    call_scheduled_at = sent_at + CALL_AFTER
    calls = _call_slots(hours, call_scheduled_at + FIRST_CALL_DELAY, EMAIL_CALL_ATTEMPTS)
    if not fate.answered:
        expires_at = calls[-1] + EXPIRE_AFTER_LAST_CALL
        return Plan(approved_at, sent_at, reminder_at, call_scheduled_at, calls, None, None, expires_at)
    if fate.phase == "before_reminder":
        answered_at = _minute(sent_at + timedelta(hours=1) + (REMINDER_AFTER - timedelta(hours=2)) * fate.fraction)
        return Plan(approved_at, sent_at, None, None, (), answered_at, None, None)
    if fate.phase == "after_reminder":
        start, end = reminder_at + timedelta(hours=1), calls[0] - timedelta(minutes=10)
        answered_at = _minute(start + (end - start) * fate.fraction)
        if answered_at < call_scheduled_at:
            return Plan(approved_at, sent_at, reminder_at, None, (), answered_at, None, None)
        # the call was planned already; the answer cancels it
        return Plan(approved_at, sent_at, reminder_at, call_scheduled_at, calls[:1], answered_at, None, None)
    k = fate.call_attempt or 1
    return Plan(approved_at, sent_at, reminder_at, call_scheduled_at, calls[:k], calls[k - 1] + CALL_SLOT, k, None)


def status_at(plan: Plan, now: datetime) -> str:
    """Return the inquiry status the plan has reached at ``now``."""
    if plan.answered_at is not None and plan.answered_at <= now:
        return "answered"
    if plan.expires_at is not None and plan.expires_at <= now:
        return "expired"
    if plan.call_scheduled_at is not None and plan.call_scheduled_at <= now:
        return "call_scheduled"
    if plan.reminder_at is not None and plan.reminder_at <= now:
        return "reminded"
    return "sent"


def calls_at(plan: Plan, now: datetime) -> list[CallState]:
    """Return the call records that exist at ``now``: failed attempts, then one done/cancelled/scheduled."""
    if plan.call_scheduled_at is None or plan.call_scheduled_at > now:
        return []
    states = []
    created_at = plan.call_scheduled_at
    for attempt, at in enumerate(plan.calls, start=1):
        if plan.answer_on_call == attempt:
            states.append(CallState(attempt, at, "done" if at <= now else "scheduled", created_at))
            break
        if plan.answered_at is not None and plan.answer_on_call is None and plan.answered_at < at:
            answered = plan.answered_at <= now
            states.append(CallState(attempt, at, "cancelled" if answered else "scheduled", created_at))
            break
        if at > now:
            states.append(CallState(attempt, at, "scheduled", created_at))
            break
        states.append(CallState(attempt, at, "failed", created_at))
        created_at = at + CALL_SLOT  # the next attempt is planned right after a failed one
    return states


def _call_slots(hours: PhoneHours, after: datetime, attempts: int) -> tuple[datetime, ...]:
    slots = [next_call_slot(hours, after)]
    while len(slots) < attempts:
        next_day = (slots[-1] + timedelta(days=1)).replace(hour=0, minute=0)
        slots.append(next_call_slot(hours, next_day))  # one attempt per day, on the next phone-hour day
    return tuple(slots)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
