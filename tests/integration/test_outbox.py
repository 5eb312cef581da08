"""The outbox: enqueue renders and writes a queued mail in the caller's transaction; contexts from the database.

Every template renders for every demo record, and no inquiry or reminder carries a patient's name, e-mail,
phone or street (data minimisation, DESIGN 3.2).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.communication import links
from core.communication.models import Email, EmailStatus
from core.communication.outbox import (
    answer_ack_context,
    enqueue,
    inquiry_context,
    patient_context,
    placement_context,
)
from core.communication.templates import LANGUAGES, render
from core.config import get_settings
from core.contact import display_phone
from core.demo import seed
from core.errors import ValidationError
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryItem, ItemOutcome, Placement
from core.patients.models import Patient
from tests.support.matching import NOW, STAFF, searching_patient, sent, therapist

SCRIPT = "<script>alert(1)</script>"
STARTED = {"patient_name": "Lea", "patient_reference": "P-1", "started_on": date(2026, 11, 1)}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_enqueue__writes_a_queued_mail_with_a_unique_message_id(session):
    doctor = therapist(session, "Kraus")
    inquiry = sent(session, doctor, [searching_patient(session), searching_patient(session, "Muster")])
    context = inquiry_context(session, inquiry_id=inquiry.id, now=NOW)
    first = enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                    inquiry_id=inquiry.id, therapist_id=doctor.id, now=NOW)  # fmt: skip
    second = enqueue(session, template="inquiry", to_address=context["to_address"], context=context, now=NOW)
    assert first.status == EmailStatus.QUEUED
    assert first.next_attempt_at == NOW
    assert first.attempts == 0
    assert first.message_id != second.message_id
    assert first.message_id.startswith("<")
    assert inquiry.reference in first.subject
    assert first.to_address == doctor.email
    assert "answer?token=" in first.body_text
    assert "<a href=" in first.body_html
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "email.queued")).all()
    assert {a.entity_id for a in audit} == {str(first.id), str(second.id)}


def test_enqueue__belongs_to_the_callers_transaction(session):
    before = _count(session, Email)
    savepoint = session.begin_nested()
    enqueue(session, template="search_started", to_address="lea@example.org", now=NOW,
            context={"patient_name": "Lea", "patient_reference": "P-1", "started_on": date(2026, 11, 1)})  # fmt: skip
    assert _count(session, Email) == before + 1
    savepoint.rollback()
    assert _count(session, Email) == before


@pytest.mark.parametrize(
    ("to_address", "context", "field"),
    [
        (None, STARTED, "to_address"),  # no address
        ("kein-at", STARTED, "to_address"),  # not an e-mail address
        ("lea@example.org", {"patient_name": "Lea"}, "context"),  # a template value is missing
    ],
)  # fmt: skip
def test_enqueue__refuses_bad_input_and_writes_nothing(session, to_address, context, field):
    before = _count(session, Email)
    with pytest.raises(ValidationError) as error:
        enqueue(session, template="search_started", to_address=to_address, context=context, now=NOW)
    assert error.value.field == field
    assert _count(session, Email) == before


def test_inquiry_context__is_pseudonymised_with_one_expiring_link_per_patient(session):
    settings = get_settings()
    doctor = therapist(session, "Kraus")
    searches = [searching_patient(session, "Geheim", first_name="Anna", birth_date=date(1990, 4, 2)),
                searching_patient(session, "Verborgen")]  # fmt: skip
    inquiry = sent(session, doctor, searches)
    context = inquiry_context(session, inquiry_id=inquiry.id, now=NOW)
    assert context["reference"] == inquiry.reference
    assert context["expires_on"] == (NOW + timedelta(days=settings.answer_link_days)).date()
    secret = settings.resolved_secret_key()
    item_ids = [item.id for item in inquiry.items]
    for entry, item_id in zip(context["items"], item_ids, strict=True):
        assert entry["answer_url"].startswith(settings.public_base_url.rstrip("/") + "/answer?token=")
        token = entry["answer_url"].split("token=")[1]
        assert links.read_token(token, secret=secret, now=NOW) == item_id
        with pytest.raises(links.LinkError):
            links.read_token(token, secret=secret, now=NOW + timedelta(days=settings.answer_link_days))
    assert context["items"][0]["age"] == 36
    assert "Geheim" not in str(context)
    assert "Anna" not in str(context)


def test_inquiry_context__refuses_an_inquiry_without_pending_patients(session):
    doctor = therapist(session, "Kraus")
    inquiry = sent(session, doctor, [searching_patient(session)])
    matching.record_answer(session, item_id=inquiry.items[0].id, outcome="declined_capacity", actor=STAFF, now=NOW)
    with pytest.raises(ValidationError, match="no patient left to ask"):
        inquiry_context(session, inquiry_id=inquiry.id, now=NOW)


def test_placement_context__escapes_a_script_name_in_the_patient_mail(session):
    doctor = therapist(session, "Kraus", phone="+493012345678", phone_hours={"0": [["09:00", "10:00"]]})
    search = searching_patient(session, SCRIPT, first_name="Lea")
    inquiry = sent(session, doctor, [search])
    matching.record_answer(session, item_id=inquiry.items[0].id, outcome="accepted", actor=STAFF, now=NOW)
    context = placement_context(session, item_id=inquiry.items[0].id)
    mail = render(context["template"], language="de", context=context)
    assert SCRIPT not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "Mo 09:00–10:00" in mail.text
    assert doctor.email in mail.text


def _scan_targets(patient: Patient) -> list[str]:
    values = [f"{patient.first_name} {patient.last_name}", patient.email, patient.phone, patient.street]
    if patient.phone:
        values.append(display_phone(patient.phone))
    return [v for v in values if v]


def test_every_template__renders_for_every_demo_record_without_patient_data_in_therapist_mails(session):
    seed(session, therapists=80, patients=40, seed=4, today=NOW.date())
    session.flush()
    now = datetime.now(UTC)
    patients = session.scalars(select(Patient)).all()
    forbidden = [(p.id, value) for p in patients for value in _scan_targets(p)]
    inquiries_with_pending = session.scalars(
        select(Inquiry).where(
            Inquiry.items.any(InquiryItem.outcome == ItemOutcome.PENDING),
            Inquiry.status.not_in(["proposed", "discarded"]),
        )
    ).all()
    answered = session.scalars(select(Inquiry).where(Inquiry.items.any(InquiryItem.answered_at.is_not(None)))).all()
    placements = session.scalars(select(Placement).where(Placement.inquiry_item_id.is_not(None))).all()
    assert patients
    assert inquiries_with_pending
    assert answered
    assert placements

    therapist_mails = []
    for inquiry in inquiries_with_pending:
        context = inquiry_context(session, inquiry_id=inquiry.id, now=now)
        therapist_mails += [render(name, language="de", context=context) for name in ("inquiry", "reminder")]
    for mail in therapist_mails:
        for patient_id, value in forbidden:
            assert value not in mail.text, f"patient {patient_id}'s data in {mail.subject}"
            assert value not in mail.html, f"patient {patient_id}'s data in {mail.subject}"
    for inquiry in answered:
        mail = render("answer_ack", language="de", context=answer_ack_context(session, inquiry_id=inquiry.id))
        assert inquiry.reference in mail.subject
    for patient in patients:
        context = patient_context(session, patient_id=patient.id, now=now)
        for language in LANGUAGES:
            for name in ("search_started", "status_update"):
                assert render(name, language=language, context=context).text
    for placement in placements:
        context = placement_context(session, item_id=placement.inquiry_item_id)
        for language in LANGUAGES:
            for name in ("placement_write", "placement_call"):
                assert context["patient_reference"] in render(name, language=language, context=context).text
