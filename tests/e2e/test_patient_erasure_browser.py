"""An admin erases a patient (Art. 17) in Chromium and reads the erasure report on the page."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.communication import outbox
from core.communication.models import EmailStatus
from tests.e2e.conftest import login, screenshot
from tests.support.matching import searching_patient, sent, therapist

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_erase_in_browser__report_names_the_practice_that_already_has_the_mail(page, streamlit_app, committed_db):
    now = datetime.now(UTC)
    with Session(committed_db) as session:
        auth.create_user(session, email="ada@example.org", role="admin", password=PASSWORD, display_name="Ada Admin")
        search = searching_patient(session, "Loeschprobe", first_name="Olga", email="olga.l@example.org")
        inquiry = sent(session, therapist(session, "Kraus"), [search], now=now)
        context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=now)
        mail = outbox.enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                              inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, now=now)  # fmt: skip
        mail.status, mail.sent_at = EmailStatus.SENT, now
        session.commit()
        pid = search.patient_id

    login(page, f"{streamlit_app}/patient?id={pid}", "ada@example.org", PASSWORD)
    page.get_by_role("heading", name="Olga Loeschprobe").wait_for(timeout=60_000)
    page.locator("details", has_text="Betroffenenrechte").locator("summary").click()
    page.get_by_label("Grund / Antrag").fill("Art. 17, Antrag vom 20.11.")
    page.get_by_text("Ich bestätige die unwiderrufliche Anonymisierung").click()
    page.get_by_role("button", name="Unwiderruflich anonymisieren").click()

    page.get_by_text("Die Akte wurde anonymisiert.").wait_for(timeout=60_000)
    page.get_by_text("Löschbericht").wait_for()
    page.get_by_text("Nicht löschbar: 1 Mail(s) wurden bereits an Praxen zugestellt").wait_for()
    screenshot(page, "patient-erasure-report")
    assert page.get_by_text("Loeschprobe").count() == 0
    assert page.outside_requests == []
