"""Data-subject rights and the Absagenliste, on a small demo history with real inquiries, mails and calls."""

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import String, Text, func, select, text
from sqlalchemy.dialects.postgresql import JSONB

from core.audit.models import AuditEvent
from core.communication.models import Email
from core.db.models import metadata
from core.demo import seed
from core.errors import ValidationError
from core.matching.models import Inquiry, InquiryItem
from core.patients import privacy, rejections
from core.patients import service as patients
from core.patients.models import Patient, Search
from core.therapists.models import Practice, Therapist

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def history(session):
    seed(session, therapists=120, patients=40, seed=7, today=TODAY)
    return session


def patient_with_mail_and_inquiries(session) -> Patient:
    """A demo patient who received mail and whose search was sent to practices."""
    query = (
        select(Patient)
        .join(Email, Email.patient_id == Patient.id)
        .join(Search, Search.patient_id == Patient.id)
        .join(InquiryItem, InquiryItem.search_id == Search.id)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .where(Inquiry.sent_at.is_not(None), Patient.email.is_not(None), Patient.street.is_not(None))
        # a street no demo practice shares, so that a hit in a therapist's address is not mistaken for a leak
        .where(Patient.street.not_in(select(Therapist.street).where(Therapist.street.is_not(None))))
        .where(Patient.street.not_in(select(Practice.street).where(Practice.street.is_not(None))))
        .order_by(Patient.id)
        .limit(1)
    )
    patient = session.scalar(query)
    assert patient is not None, "the demo history should contain a contacted patient with mail"
    return patient


def text_hits(session, needle: str) -> list[str]:
    """Return table.column for every text, varchar or jsonb column in the database that contains ``needle``."""
    hits = []
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String | Text | JSONB):
                found = session.execute(
                    text(f'SELECT count(*) FROM "{table.name}" WHERE "{column.name}"::text ILIKE :n'),
                    {"n": f"%{needle}%"},
                ).scalar()
                if found:
                    hits.append(f"{table.name}.{column.name}")
    return hits


def test_erase__no_name_email_phone_or_street_remains_anywhere(history):
    patient = patient_with_mail_and_inquiries(history)
    secrets = {
        "name": f"{patient.first_name} {patient.last_name}",
        "email": patient.email,
        "phone": patient.phone,
        "street": patient.street,
    }
    assert text_hits(history, secrets["email"]), "the test must find the e-mail before erasure, or it proves nothing"
    items_before = history.scalar(select(func.count()).select_from(InquiryItem).join(Search).where(
        Search.patient_id == patient.id))  # fmt: skip

    privacy.erase(
        history, patient_id=patient.id, actor="admin@example.org", reason="Art. 17, Antrag vom 20.11.", now=NOW
    )
    history.flush()

    for what, value in secrets.items():
        hits = text_hits(history, value)
        assert hits == [], f"{what} of the erased patient is still stored in {hits}"
    assert patient.first_name == "Gelöscht"
    assert patient.birth_date == date(patient.birth_date.year, 7, 1)
    items_after = history.scalar(select(func.count()).select_from(InquiryItem).join(Search).where(
        Search.patient_id == patient.id))  # fmt: skip
    assert items_after == items_before  # the statistics survive
    event = history.scalars(select(AuditEvent).where(AuditEvent.action == "patient.erased")).one()
    assert event.reason == "Art. 17, Antrag vom 20.11."


def test_erase__needs_a_reason_and_happens_once(history):
    patient = patient_with_mail_and_inquiries(history)
    with pytest.raises(ValidationError, match="A reason is required for an erasure"):
        privacy.erase(history, patient_id=patient.id, actor="admin@example.org", reason=" ", now=NOW)
    assert patient.erased_at is None
    privacy.erase(history, patient_id=patient.id, actor="admin@example.org", reason="Antrag", now=NOW)
    with pytest.raises(ValidationError, match=r"was already erased on 26\.11\.2026"):
        privacy.erase(history, patient_id=patient.id, actor="admin@example.org", reason="Antrag", now=NOW)


def test_export__contains_every_related_record_and_is_audited(history):
    patient = patient_with_mail_and_inquiries(history)
    data = json.loads(privacy.export_json(history, patient_id=patient.id, actor="admin@example.org"))
    assert data["patient"]["email"] == patient.email
    assert data["searches"]
    assert data["inquiries"]
    assert data["emails"]
    assert all(item["inquiry_reference"].startswith("A-") for item in data["inquiries"])
    assert history.scalar(select(func.count()).where(AuditEvent.action == "patient.exported")) == 1


def test_rejection_list__dated_contacts_with_answers_as_html_and_csv(history):
    patient = patient_with_mail_and_inquiries(history)
    contacts = rejections.rejection_list(history, patient_id=patient.id)
    assert contacts == sorted(contacts, key=lambda c: c.contacted_on)
    html = rejections.render_html(patient, contacts, today=TODAY)
    assert "Absagenliste" in html
    assert patient.reference in html
    assert "26.11.2026" in html
    assert contacts[0].therapist in html
    csv_text = rejections.render_csv(contacts)
    assert csv_text.splitlines()[0].startswith("Kontakt am;Therapeut/in")
    assert len(csv_text.splitlines()) == len(contacts) + 1


def test_rejection_list__empty_state_and_escaping(session):
    patient = patients.create(session, data={"first_name": "<script>alert(1)</script>", "last_name": "Test",
                                             "gender": "male", "birth_date": date(1980, 1, 1), "postcode": "10115"},
                              actor="a@example.org", today=TODAY)  # fmt: skip
    contacts = rejections.rejection_list(session, patient_id=patient.id)
    html = rejections.render_html(patient, contacts, today=TODAY)
    assert contacts == []
    assert "Bisher wurden noch keine Praxen kontaktiert." in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
