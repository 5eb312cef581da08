"""Call list and inquiry thread pages in AppTest: empty state, grouping, outcome recording, thread."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication.models import CallStatus, PhoneCall
from core.db import session_scope
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from tests.dashboards.conftest import open_page, texts
from tests.support.matching import searching_patient, sent, therapist

HOURS = {str(day): [["09:00", "10:00"]] for day in range(5)}


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def a_call_now(committed_db) -> tuple[int, int, list[int]]:
    """Commit an inquiry about two patients with a call scheduled a few minutes ago; return ids."""
    with session_scope(committed_db) as session:
        searches = [searching_patient(session, "Beispiel"), searching_patient(session, "Muster", first_name="Tom")]
        row = therapist(session, "Kraus", phone="+49301234567", phone_hours=HOURS)  # stored in E.164
        inquiry = sent(session, row, searches)
        inquiry.status = InquiryStatus.CALL_SCHEDULED
        call = PhoneCall(inquiry_id=inquiry.id, therapist_id=row.id, attempt=1, status=CallStatus.SCHEDULED,
                         scheduled_for=datetime.now(UTC) - timedelta(minutes=5))  # fmt: skip
        session.add(call)
        session.flush()
        return inquiry.id, call.id, [item.id for item in inquiry.items]


def test_calls__empty_state(repo_root, staff):
    at = as_staff(repo_root, staff, "calls.py")
    assert not at.exception
    assert "keine Anrufe geplant" in texts(at)


def test_calls__lists_the_call_with_phone_hours_patients_and_script(repo_root, staff, committed_db):
    a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")
    page = texts(at)
    assert not at.exception
    assert "Jana Kraus" in page
    assert "030 1234567" in page  # as staff dial it, not the stored E.164
    assert "+49301234567" not in page
    assert "09:00" in page  # the practice's hours
    assert "Gesprächsleitfaden" in page
    assert "P-T" in str(at.table[0].value)  # patient references, never names
    assert "Beispiel" not in str(at.table[0].value)


def test_calls__not_reached_reschedules(repo_root, staff, committed_db):
    inquiry_id, call_id, _ = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")
    at.radio(key=f"outcome_{call_id}").set_value("not_reached")
    at.button[0].click().run()
    assert not at.exception
    with Session(committed_db) as session:
        calls = session.scalars(select(PhoneCall).where(PhoneCall.inquiry_id == inquiry_id).order_by(PhoneCall.id))
        assert [(c.status, c.attempt) for c in calls] == [(CallStatus.FAILED, 1), (CallStatus.SCHEDULED, 2)]


def test_calls__reached_records_answers_by_phone(repo_root, staff, committed_db):
    inquiry_id, call_id, (first, second) = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")
    at.radio(key=f"outcome_{call_id}").set_value("reached")
    at.selectbox(key=f"answer_{call_id}_{first}").set_value("declined_capacity")
    at.selectbox(key=f"answer_{call_id}_{second}").set_value("declined_other")
    at.text_area(key=f"notes_{call_id}").input("Praxis voll bis Sommer")
    at.button[0].click().run()
    assert not at.exception
    assert "Anruf gespeichert" in texts(at)
    with Session(committed_db) as session:
        outcomes = session.scalars(select(InquiryItem.outcome).where(InquiryItem.inquiry_id == inquiry_id)).all()
        assert sorted(outcomes) == sorted([ItemOutcome.DECLINED_CAPACITY, ItemOutcome.DECLINED_OTHER])
        assert session.get(Inquiry, inquiry_id).status == InquiryStatus.ANSWERED
        assert session.get(PhoneCall, call_id).notes == "Praxis voll bis Sommer"


def test_calls__reached_without_answer_shows_the_error_and_keeps_the_call(repo_root, staff, committed_db):
    _, call_id, _ = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")
    at.radio(key=f"outcome_{call_id}").set_value("reached")
    at.button[0].click().run()
    assert "braucht mindestens eine Antwort" in texts(at)
    with Session(committed_db) as session:
        assert session.get(PhoneCall, call_id).status == CallStatus.SCHEDULED


def test_inquiry_thread__shows_the_calls_of_the_inquiry(repo_root, staff, committed_db):
    inquiry_id, _, _ = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "inquiry_thread.py", id=str(inquiry_id))
    assert not at.exception
    assert "A-" in texts(at)
    assert "Anruf" in str(at.dataframe[0].value)


def test_inquiry_thread__without_id_explains_how_to_open_it(repo_root, staff):
    at = as_staff(repo_root, staff, "inquiry_thread.py")
    assert "?id=123" in texts(at)
    at = as_staff(repo_root, staff, "inquiry_thread.py", id="999999")
    assert "Anfrage 999999 wurde nicht gefunden" in texts(at)
