"""Phone numbers are shown as staff dial them on every list that shows them (defect 8): Absagenliste here."""

from datetime import date

from core.patients import rejections
from core.patients.models import Patient
from tests.support.matching import searching_patient, sent, therapist


def test_rejection_list__shows_the_practice_phone_as_dialled_in_html_and_csv(session):
    search = searching_patient(session, "Beispiel")
    sent(session, therapist(session, "Kraus", phone="+49301234567"), [search])
    sent(session, therapist(session, "Huber", phone="+4312345678"), [search])  # a practice in Vienna
    patient = session.get(Patient, search.patient_id)

    contacts = rejections.rejection_list(session, patient_id=patient.id)
    html = rejections.render_html(patient, contacts, today=date(2026, 12, 14))
    csv_text = rejections.render_csv(contacts)
    for shown in (html, csv_text):
        assert "030 1234567" in shown
        assert "+43 1 2345678" in shown  # foreign numbers keep their country code
        assert "+49301234567" not in shown
