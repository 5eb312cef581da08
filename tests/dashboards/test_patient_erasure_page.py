"""The admin's erasure on the patient page (AppTest): confirmed erasure ends the search and shows the report."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.communication import outbox
from core.communication.models import Email, EmailStatus
from core.patients.models import Patient, SearchStatus
from tests.dashboards.conftest import open_page, texts
from tests.support.matching import searching_patient, sent, therapist


def test_detail__confirmed_erasure_ends_the_search_and_reports_delivered_mail(repo_root, staff, committed_db):
    now = datetime.now(UTC)
    with Session(committed_db) as session:
        search = searching_patient(session, "Tilgung", email="t.tilgung@example.org")
        inquiry = sent(session, therapist(session, "Kraus"), [search], now=now)
        context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=now)
        mail = outbox.enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                              inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, now=now)  # fmt: skip
        mail.status, mail.sent_at = EmailStatus.SENT, now  # delivered to the practice before the erasure
        session.commit()
        pid, sid, mail_id = search.patient_id, search.id, mail.id
    user_id, email = staff
    at = open_page(repo_root, "patient.py", user_id=user_id, email=email, role="admin", query={"id": str(pid)})
    next(w for w in at.text_input if w.label == "Grund / Antrag").input("Art. 17, Antrag vom 20.11.")
    next(w for w in at.checkbox if w.label.startswith("Ich bestätige")).check()
    next(b for b in at.button if b.label == "Unwiderruflich anonymisieren").click().run()

    shown = texts(at)
    assert "Die Akte wurde anonymisiert." in shown
    assert "Löschbericht" in shown
    assert "Nicht löschbar: 1 Mail(s) wurden bereits an Praxen zugestellt" in shown
    assert "Tilgung" not in at.title[0].value
    with Session(committed_db) as session:
        patient = session.get(Patient, pid)
        assert patient.erased_at is not None
        assert patient.searches[0].id == sid
        assert patient.searches[0].status == SearchStatus.CANCELLED
        assert "t.tilgung@example.org" not in session.get(Email, mail_id).body_text
