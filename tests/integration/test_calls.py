"""Phone calls on real PostgreSQL: outcomes (reached, not reached, wrong number), the call list, timelines."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.communication import calls, timeline
from core.communication.models import CallStatus, PhoneCall
from core.errors import ConcurrentEdit, ValidationError
from core.matching.models import InquiryStatus, ItemOutcome
from core.patients.models import Search
from core.therapists.models import Therapist
from tests.support.matching import STAFF, searching_patient, sent, therapist

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


@pytest.fixture
def scheduled(session):
    """An inquiry about two patients to a practice reminded long ago, with its first call scheduled."""
    searches = [searching_patient(session, "Beispiel"), searching_patient(session, "Muster", first_name="Tom")]
    inquiry = sent(session, therapist(session, "Kraus", phone="+49 30 1234567", phone_hours=MON_FRI_9_10), searches)
    inquiry.status = InquiryStatus.CALL_SCHEDULED
    call = calls.schedule_call(session, inquiry=inquiry, after=NOW, attempt=1, actor=STAFF)
    return inquiry, call


def record(session, call, outcome, **kwargs):
    return calls.record_outcome(session, call_id=call.id, outcome=outcome, actor=STAFF, now=NOW, **kwargs)


def test_schedule_call__first_slot_of_the_phone_hours(session, scheduled):
    _, call = scheduled
    assert call.scheduled_for.astimezone(BERLIN) == datetime(2026, 12, 14, 9, 0, tzinfo=BERLIN)


def test_schedule_call__a_second_call_takes_the_next_slot(session, scheduled):
    assert scheduled[1].attempt == 1
    other = sent(session, therapist(session, "Lorenz", phone_hours=MON_FRI_9_10), [searching_patient(session, "X")])
    call = calls.schedule_call(session, inquiry=other, after=NOW, attempt=1, actor=STAFF)
    assert call.scheduled_for.astimezone(BERLIN) == datetime(2026, 12, 14, 9, 5, tzinfo=BERLIN)


def test_record_outcome__reached_records_the_answers_by_phone(session, scheduled):
    inquiry, call = scheduled
    first, second = inquiry.items
    record(session, call, "reached", answers={first.id: "accepted", second.id: "declined_capacity"}, notes="nett")
    assert (call.status, call.outcome, call.notes) == (CallStatus.DONE, "reached", "nett")
    assert (first.outcome, second.outcome) == (ItemOutcome.ACCEPTED, ItemOutcome.DECLINED_CAPACITY)
    assert first.answer_source.value == "phone"
    assert inquiry.status == InquiryStatus.ANSWERED


def test_record_outcome__reached_without_answers_is_refused_and_changes_nothing(session, scheduled):
    _, call = scheduled
    with pytest.raises(ValidationError, match="at least one answer"):
        record(session, call, "reached", answers={})
    assert call.status == CallStatus.SCHEDULED


def test_record_outcome__not_reached_schedules_the_next_day(session, scheduled):
    inquiry, call = scheduled
    follow = record(session, call, "not_reached")
    nxt = session.get(PhoneCall, follow["next_call_id"])
    assert call.status == CallStatus.FAILED
    assert (nxt.attempt, nxt.scheduled_for.astimezone(BERLIN)) == (2, datetime(2026, 12, 15, 9, 0, tzinfo=BERLIN))
    assert inquiry.status == InquiryStatus.CALL_SCHEDULED


def test_record_outcome__wrong_number_flags_the_therapist(session, scheduled):
    inquiry, call = scheduled
    follow = record(session, call, "wrong_number")
    assert follow["next_call_id"] is None
    assert "Telefonnummer falsch" in session.get(Therapist, inquiry.therapist_id).notes


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ("maybe", "unknown"),  # not an outcome
    ],
)
def test_record_outcome__rejects_unknown_outcomes(session, scheduled, outcome, message):
    with pytest.raises(ValidationError, match=message):
        record(session, scheduled[1], outcome)


def test_record_outcome__stale_version_is_refused(session, scheduled):
    _, call = scheduled
    with pytest.raises(ConcurrentEdit):
        record(session, call, "not_reached", expected_version=call.version + 1)


def test_record_outcome__only_once(session, scheduled):
    _, call = scheduled
    record(session, call, "wrong_number")
    with pytest.raises(ValidationError, match="already"):
        record(session, call, "not_reached")


def test_call_list__groups_the_days_calls_with_patients(session, scheduled):
    inquiry, call = scheduled
    [row] = calls.call_list(session, day=date(2026, 12, 14), tz="Europe/Berlin")
    assert (row["call_id"], row["slot"], row["phone"], row["overdue"]) == (call.id, "09:00", "+49 30 1234567", False)
    assert [p["item_id"] for p in row["patients"]] == [item.id for item in inquiry.items]
    assert "09:00" in row["hours"]
    # the next day it is listed as overdue until an outcome is recorded
    assert calls.call_list(session, day=date(2026, 12, 15), tz="Europe/Berlin")[0]["overdue"] is True
    assert calls.call_list(session, day=date(2026, 12, 13), tz="Europe/Berlin") == []


def test_timeline__patient_sees_calls_and_answers_of_their_inquiries(session, scheduled):
    inquiry, call = scheduled
    first = inquiry.items[0]
    record(session, call, "reached", answers={first.id: "accepted"})
    patient_id = session.scalar(select(Search.patient_id).where(Search.id == first.search_id))
    kinds = [(e.kind, e.title) for e in timeline.entries(session, patient_id=patient_id)]
    assert ("answer", "accepted") in kinds
    assert ("call", "reached") in kinds
    therapist_kinds = [e.kind for e in timeline.entries(session, therapist_id=inquiry.therapist_id)]
    assert therapist_kinds.count("answer") == 1
    thread = timeline.entries(session, inquiry_id=inquiry.id)
    assert {e.kind for e in thread} == {"answer", "call"}


def test_timeline__needs_exactly_one_subject(session):
    with pytest.raises(ValidationError, match="exactly one"):
        timeline.entries(session, patient_id=1, therapist_id=2)


def test_call_list__empty_day(session):
    assert calls.call_list(session, day=date(2026, 12, 25), tz="Europe/Berlin") == []
