"""The response model behind the demo history and the simulator's default world. Assumptions, not measurements.

One world model: ``core.demo.history`` (six months of demo data) and ``core.simulation.demo_world`` (the
placement simulator's default world) both draw answers with the functions below.

- Each practice has a responsiveness r, the chance that an inquiry gets any answer at all:
  0.55 / 0.75 / 0.90 for 30 / 40 / 30 % of practices (mean 0.74).
- Practices with an e-mail address answer 60 % of their answers before the reminder (day 0-7), 25 % after
  it (day 7-15), 15 % on a phone call (first attempt 70 %, second 30 %).
  So P(answer within 7 days) = 0.6 * 0.74 = 0.44, and P(no answer at all) = 0.26.
- Phone-only practices are called from the day of approval: answer on attempt 1 / 2 / 3 with 65 / 25 / 10 %.
- No answer: the call attempts fail, the inquiry expires a day after the last one, its items become no_answer.
- P(accept | answered), per patient: 0.15 if the therapist reported taking patients, 0.06 if unknown, 0.015
  if not, times (1 - 0.5 * min(distance, 30 km) / 30 km). At most 2 acceptances per inquiry. Places are
  scarce: with these numbers half of the searches wait longer than about two months.
- A decline is for capacity 65 %, unsuitable 20 %, other reasons 15 %.
- Answers arrive by the one-click link 45 %, e-mail 30 %, phone 15 % (always, when answered on a call),
  typed in by staff from a letter or fax 10 %.
- The first session is 7-35 days after the acceptance; 8 % of patients do not show up.
- Patients give up at 1 % per week of searching; 6 % pause once for 2-8 weeks; 8 % have their radius
  widened by 10 km after 3-8 weeks.
- Staff discard 4 % of proposals and approve the rest 1-8 hours after the 07:00 matching run; the mail
  goes out 1-15 minutes later; 3 % of mails need a second attempt; 1.5 % of reminders bounce for good.
- Contact limits hold: one open inquiry per practice, 4 weeks of cooldown after an answer, at most 2
  inquiries per practice in 30 days; 1 % of cooldowns are overridden by staff, with a reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from core.demo.draws import pick

RESPONSIVENESS = {0.55: 30, 0.75: 40, 0.90: 30}
EMAIL_ANSWER_PHASE = {"before_reminder": 60, "after_reminder": 25, "call": 15}
EMAIL_CALL_ATTEMPT = {1: 70, 2: 30}
PHONE_CALL_ATTEMPT = {1: 65, 2: 25, 3: 10}
ACCEPT_BASE = {True: 0.15, None: 0.06, False: 0.015}
DISTANCE_PENALTY_KM = 30.0
MAX_ACCEPTS_PER_INQUIRY = 2
DECLINES = {"declined_capacity": 65, "declined_unsuitable": 20, "declined_other": 15}
ANSWER_SOURCES = {"link": 45, "email": 30, "phone": 15, "staff": 10}
FIRST_SESSION_DAYS = (7, 35)
NO_SHOW = 0.08
CANCEL_PER_WEEK = 0.01
PAUSE_SHARE, PAUSE_WEEKS = 0.06, (2, 8)
RELAX_SHARE, RELAX_WEEKS, RELAX_KM = 0.08, (3, 8), 10.0
DISCARD_SHARE = 0.04
APPROVAL_HOURS = (1, 8)
SEND_MINUTES = (1, 15)
RETRY_SHARE = 0.03
BOUNCE_SHARE = 0.015
COOLDOWN = timedelta(weeks=4)  # DESIGN 3.2 default: practices cool down for 4 weeks after any answer
MONTHLY_CAP = 2  # inquiries per practice in 30 days
OVERRIDE_SHARE = 0.01


@dataclass(frozen=True)
class Fate:
    """How one inquiry will be answered, drawn when it is sent."""

    answered: bool
    phase: str | None = None  # before_reminder | after_reminder | call
    call_attempt: int | None = None  # the call that brings the answer
    fraction: float = 0.0  # where in its phase the answer falls, 0..1


def draw_responsiveness(rng: random.Random) -> float:
    """Return a practice's chance of answering an inquiry at all."""
    return pick(rng, RESPONSIVENESS)


def draw_fate(rng: random.Random, *, responsiveness: float, phone_only: bool) -> Fate:
    """Draw whether and when an inquiry is answered."""
    answered = rng.random() < responsiveness
    fraction = rng.random()
    if not answered:
        return Fate(answered=False)
    if phone_only:
        return Fate(answered=True, phase="call", call_attempt=pick(rng, PHONE_CALL_ATTEMPT), fraction=fraction)
    phase = pick(rng, EMAIL_ANSWER_PHASE)
    attempt = pick(rng, EMAIL_CALL_ATTEMPT) if phase == "call" else None
    return Fate(answered=True, phase=phase, call_attempt=attempt, fraction=fraction)


def accept_probability(accepting: bool | None, distance_km: float) -> float:
    """Return P(accept | answered) for one patient, e.g. accepting=True at 15 km -> 0.1125."""
    return ACCEPT_BASE[accepting] * (1 - 0.5 * min(distance_km, DISTANCE_PENALTY_KM) / DISTANCE_PENALTY_KM)


def wants_place(rng: random.Random, *, accepting: bool | None, distance_km: float) -> bool:
    """Draw whether an answering practice would offer this patient a place."""
    return rng.random() < accept_probability(accepting, distance_km)


def patient_outcome(rng: random.Random, *, wants: bool, accepts_so_far: int) -> str:
    """Return "accepted" or a decline for one pending patient of an answered inquiry.

    At most MAX_ACCEPTS_PER_INQUIRY patients per inquiry get a place; a wanted patient beyond that is
    declined for capacity.
    """
    if wants and accepts_so_far < MAX_ACCEPTS_PER_INQUIRY:
        return "accepted"
    return "declined_capacity" if wants else draw_decline(rng)


def answer_delay_days(fate: Fate, *, reminder_days: int = 7, call_days: int = 7) -> int | None:
    """Return the days from sending to the answer for an e-mail practice's fate (None: no answer).

    The follow-up ladder's timing: before the reminder (days 0..reminder-1), between reminder and call,
    or on call attempt k (one attempt a day from reminder + call days on).
    """
    if not fate.answered:
        return None
    if fate.phase == "before_reminder":
        return min(int(fate.fraction * reminder_days), reminder_days - 1)
    if fate.phase == "after_reminder":
        return reminder_days + min(int(fate.fraction * call_days), call_days - 1)
    return reminder_days + call_days + (fate.call_attempt or 1) - 1


def draw_decline(rng: random.Random) -> str:
    """Return the outcome of a declined patient."""
    return pick(rng, DECLINES)


def draw_answer_source(rng: random.Random, *, on_call: bool) -> str:
    """Return how an answer reached the service."""
    return "phone" if on_call else pick(rng, ANSWER_SOURCES)
