"""Approving an inquiry queues its mail in the same transaction; a refusal writes neither."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.communication import dispatch
from core.communication.models import Email, EmailStatus
from core.communication.outbox import inquiry_context
from core.demo import seed
from core.errors import WorkbenchError
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryStatus

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def proposals(session):
    seed(session, therapists=300, patients=80, seed=11, today=date(2026, 11, 26))
    matching.scheduled_run(session, now=NOW)
    return matching.list_proposals(session)


def mails(session, inquiry_id: int) -> list[Email]:
    return session.scalars(select(Email).where(Email.inquiry_id == inquiry_id)).all()


def test_approve_and_queue__writes_the_mail_and_the_state_together(session, proposals):
    with_mail = next(
        p for p in proposals if inquiry_context(session, inquiry_id=p["inquiry_id"], now=NOW).get("to_address")
    )
    email = dispatch.approve_and_queue(session, inquiry_id=with_mail["inquiry_id"], actor="anna@example.org", now=NOW)
    assert email.status == EmailStatus.QUEUED
    assert with_mail["reference"] in email.subject
    assert session.get(Inquiry, with_mail["inquiry_id"]).status == InquiryStatus.QUEUED


def test_approve_and_queue__a_refused_approval_queues_no_mail(session, proposals):
    inquiry_id = proposals[0]["inquiry_id"]
    dispatch.approve_and_queue(session, inquiry_id=inquiry_id, actor="anna@example.org", now=NOW)
    before = session.scalar(select(func.count()).select_from(Email))
    with pytest.raises(WorkbenchError):
        dispatch.approve_and_queue(session, inquiry_id=inquiry_id, actor="anna@example.org", now=NOW)  # twice
    assert session.scalar(select(func.count()).select_from(Email)) == before


def test_start_search_and_notify__queues_the_confirmation_with_the_search(session):
    from core.patients import service as patients

    patient = patients.create(
        session,
        data={
            "first_name": "Nora",
            "last_name": "Neu",
            "gender": "female",
            "birth_date": date(1990, 1, 1),
            "postcode": "10115",
            "email": "nora@example.org",
            "insurance_type": "statutory",
            "contact_language": "en",
            "availability": [{"weekday": d, "start": "08:00", "end": "13:00"} for d in range(5)],
        },
        actor="t@example.org",
        today=date(2026, 11, 26),
    )
    for kind in ("health_data", "share_profile"):
        patients.record_consent(session, patient_id=patient.id, kind=kind, text_version="1", actor="t", now=NOW)
    email = dispatch.start_search_and_notify(
        session, patient_id=patient.id, actor="t@example.org", today=date(2026, 11, 26), now=NOW
    )
    assert (email.template, email.language, email.to_address) == ("search_started", "en", "nora@example.org")
    assert patients.current_search(session, patient_id=patient.id) is not None


def test_notify_placement__the_accepting_answer_queues_the_patients_mail_once(session, proposals):
    from core.patients.models import Patient, Search

    def has_email(item) -> bool:
        search = session.get(Search, item["search_id"])
        return bool(session.get(Patient, search.patient_id).email)

    proposal, item = next((p, i) for p in proposals for i in p["items"] if has_email(i))
    dispatch.approve_and_queue(session, inquiry_id=proposal["inquiry_id"], actor="anna@example.org", now=NOW)
    result = matching.record_answer(
        session, item_id=item["item_id"], outcome="accepted", actor="a@example.org", now=NOW
    )
    email = dispatch.notify_placement(session, result=result, actor="a@example.org", now=NOW)
    assert email.template in {"placement_write", "placement_call"}
    again = matching.record_answer(session, item_id=item["item_id"], outcome="accepted", actor="a@example.org", now=NOW)
    assert dispatch.notify_placement(session, result=again, actor="a@example.org", now=NOW) is None  # no repeat
