"""The follow-up ladder as a pure decision over fixed dates (DESIGN 3.2): reminder, call, attempts, expiry."""

from datetime import UTC, date, datetime

import pytest

from core.communication.followup import Action, Decision, LadderState, Rules, decide
from core.matching.models import InquiryStatus as S

TZ = "Europe/Berlin"
RULES = Rules(reminder_days=7, call_days=7, call_attempts=3)


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        # sent on a Thursday, six days later: wait for the reminder day
        (LadderState(S.SENT, sent_at=at("2026-11-26 09:00")), at("2026-12-02 16:00"),
         Decision(Action.WAIT, date(2026, 12, 3))),
        # seven calendar days later, early in the morning: the reminder is due
        (LadderState(S.SENT, sent_at=at("2026-11-26 09:00")), at("2026-12-03 06:00"),
         Decision(Action.REMIND, date(2026, 12, 3))),
        # sent late on 31 January (local 1 Feb 00:30): due 8 February, not 7 February
        (LadderState(S.SENT, sent_at=at("2026-01-31 23:30")), at("2026-02-07 12:00"),
         Decision(Action.WAIT, date(2026, 2, 8))),
        # month end in a leap-free February: sent 28 Feb, due 7 March
        (LadderState(S.SENT, sent_at=at("2026-02-28 10:00")), at("2026-03-07 10:00"),
         Decision(Action.REMIND, date(2026, 3, 7))),
        # a due day on a Saturday is still due: the mail waits in the outbox for the sending window
        (LadderState(S.SENT, sent_at=at("2026-10-24 10:00")), at("2026-10-31 10:00"),
         Decision(Action.REMIND, date(2026, 10, 31))),
        # German Unity Day (3 Oct 2026, a Saturday) as the due day: due all the same
        (LadderState(S.SENT, sent_at=at("2026-09-26 10:00")), at("2026-10-03 10:00"),
         Decision(Action.REMIND, date(2026, 10, 3))),
        # a forgotten run: overdue reminders are still sent, with their original due day
        (LadderState(S.SENT, sent_at=at("2026-12-18 10:00")), at("2026-12-28 08:00"),
         Decision(Action.REMIND, date(2026, 12, 25))),
        # practice without e-mail, sent by other means long ago: called instead of reminded
        (LadderState(S.SENT, sent_at=at("2026-12-01 10:00"), has_email=False), at("2026-12-08 10:00"),
         Decision(Action.CALL, date(2026, 12, 8), 1)),
        # approved but the practice has no e-mail: called at once
        (LadderState(S.APPROVED, has_email=False), at("2026-12-24 15:00"),
         Decision(Action.CALL, date(2026, 12, 24), 1)),
        # approved with e-mail: the sender's business, not the ladder's
        (LadderState(S.APPROVED), at("2026-12-24 15:00"), Decision(Action.NONE)),
        # reminded on Christmas Eve: call due on New Year's Eve (local time: 22:59 UTC is 23:59 in Berlin)
        (LadderState(S.REMINDED, reminded_at=at("2026-12-24 09:00")), at("2026-12-30 22:59"),
         Decision(Action.WAIT, date(2026, 12, 31))),
        (LadderState(S.REMINDED, reminded_at=at("2026-12-24 09:00")), at("2026-12-31 07:00"),
         Decision(Action.CALL, date(2026, 12, 31), 1)),
        # a call is scheduled: wait for its outcome
        (LadderState(S.CALL_SCHEDULED, scheduled_calls=1, calls_made=1), at("2027-01-04 10:00"), Decision(Action.WAIT)),
        # one call not reached and none scheduled: the second attempt
        (LadderState(S.CALL_SCHEDULED, calls_made=1, last_call_outcome="not_reached"), at("2027-01-04 10:00"),
         Decision(Action.CALL, date(2027, 1, 4), 2)),
        # every attempt used: expire
        (LadderState(S.CALL_SCHEDULED, calls_made=3, last_call_outcome="not_reached"), at("2027-01-29 10:00"),
         Decision(Action.EXPIRE, date(2027, 1, 29))),
        # wrong number: staff must correct it first
        (LadderState(S.CALL_SCHEDULED, calls_made=1, last_call_outcome="wrong_number"), at("2027-01-04 10:00"),
         Decision(Action.BLOCKED)),
        # nothing pending (every patient answered or withdrawn): nothing to do
        (LadderState(S.SENT, sent_at=at("2026-11-01 10:00"), pending_items=0), at("2026-12-01 10:00"),
         Decision(Action.NONE)),
        # answered inquiries are off the ladder
        (LadderState(S.ANSWERED, sent_at=at("2026-11-01 10:00")), at("2026-12-01 10:00"), Decision(Action.NONE)),
    ],
)  # fmt: skip
def test_decide__follows_the_ladder_over_fixed_dates(state, now, expected):
    assert decide(state, now=now, rules=RULES, tz=TZ) == expected


@pytest.mark.parametrize(
    ("rules", "now", "action"),
    [
        # reminder after 3 days instead of 7
        (Rules(3, 7, 3), at("2026-11-29 10:00"), Action.REMIND),
        (Rules(7, 7, 3), at("2026-11-29 10:00"), Action.WAIT),
    ],
)
def test_decide__thresholds_come_from_the_rules(rules, now, action):
    assert decide(LadderState(S.SENT, sent_at=at("2026-11-26 09:00")), now=now, rules=rules, tz=TZ).action == action


def test_decide__attempts_come_from_the_rules():
    state = LadderState(S.CALL_SCHEDULED, calls_made=3, last_call_outcome="not_reached")
    assert decide(state, now=at("2027-01-04 10:00"), rules=Rules(7, 7, 5), tz=TZ) == Decision(
        Action.CALL, date(2027, 1, 4), 4
    )
