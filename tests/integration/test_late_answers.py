"""Late answers by phone and by staff: an offer for a patient placed meanwhile is a conflict, and staff are told."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.communication import calls
from core.communication.models import Email
from core.errors import IllegalTransition
from core.matching import service as matching
from core.matching.models import InquiryStatus, ItemOutcome
from tests.support.matching import STAFF, searching_patient, sent, therapist

NOW = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


@pytest.fixture
def call_about_lea_and_tom(session):
    """Lorenz is to be called about Lea and Tom; Lea's search also went to Kraus by mail."""
    lea = searching_patient(session, "Beispiel", email="lea@example.org")
    tom = searching_patient(session, "Muster", first_name="Tom", email="tom@example.org")
    by_mail = sent(session, therapist(session, "Kraus"), [lea], now=NOW)
    by_phone = sent(session, therapist(session, "Lorenz", phone="+49 30 1234567", phone_hours=MON_FRI_9_10),
                    [lea, tom], now=NOW)  # fmt: skip
    by_phone.status = InquiryStatus.CALL_SCHEDULED
    call = calls.schedule_call(session, inquiry=by_phone, after=NOW, attempt=1, actor=STAFF)
    return by_mail, by_phone, call


def _reached(session, call, answers):
    return calls.record_outcome(session, call_id=call.id, outcome="reached", answers=answers, actor=STAFF, now=NOW)


def test_call_outcome__an_offer_for_a_patient_placed_meanwhile_is_a_reported_conflict(session, call_about_lea_and_tom):
    by_mail, by_phone, call = call_about_lea_and_tom
    lea_item, tom_item = (item.id for item in by_phone.items)
    # staff dial while Kraus accepts Lea through the answer link
    matching.record_answer(session, item_id=by_mail.items[0].id, outcome="accepted", actor="link", now=NOW)
    follow = _reached(session, call, {lea_item: "accepted", tom_item: "declined_capacity"})
    assert follow["conflict_item_ids"] == [lea_item]  # the page warns: do not promise Lorenz the patient
    [conflict] = matching.list_conflicts(session)
    assert conflict["item_id"] == lea_item


def test_call_outcome__an_offer_by_phone_queues_the_patients_placement_mail(session, call_about_lea_and_tom):
    _, by_phone, call = call_about_lea_and_tom
    lea_item, tom_item = (item.id for item in by_phone.items)
    follow = _reached(session, call, {lea_item: "accepted", tom_item: "declined_capacity"})
    assert follow["conflict_item_ids"] == []
    mails = session.scalars(select(Email).where(Email.template.in_(["placement_write", "placement_call"]))).all()
    assert [mail.to_address for mail in mails] == ["lea@example.org"]


def test_answer__a_decline_for_a_patient_placed_meanwhile_says_so(session, call_about_lea_and_tom):
    by_mail, by_phone, _ = call_about_lea_and_tom
    matching.record_answer(session, item_id=by_mail.items[0].id, outcome="accepted", actor="link", now=NOW)
    with pytest.raises(IllegalTransition, match="placed through another inquiry meanwhile"):
        matching.record_answer(session, item_id=by_phone.items[0].id, outcome="declined_capacity", actor=STAFF,
                               now=NOW)  # fmt: skip
    assert by_phone.items[0].outcome == ItemOutcome.WITHDRAWN
