"""A patient and a therapist open their self-service links on a phone-sized screen in Chromium, without login."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from core.communication import outbox
from core.patients.models import Search, SearchStatus
from core.therapists.models import Therapist
from tests.e2e.conftest import screenshot
from tests.support.matching import searching_patient, sent, therapist

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_mein_stand_in_browser__a_patient_ends_the_search_on_a_phone(page, streamlit_app, committed_db):
    now = datetime.now(UTC)
    with Session(committed_db, expire_on_commit=False) as session:
        search = searching_patient(session, "Geheim", first_name="Lea", email="lea@example.org")
        url = outbox.patient_context(session, patient_id=search.patient_id, now=now)["status_url"]
        session.commit()
    page.set_viewport_size(PHONE)
    page.goto(f"{streamlit_app}/mein_stand?token={url.split('token=')[1]}")
    page.get_by_role("heading", name="Mein Stand").wait_for(timeout=60_000)
    page.get_by_text("Guten Tag Lea").wait_for()
    page.get_by_role("button", name="Suche beenden").wait_for()
    page.get_by_text("Angefragte Praxen").wait_for()
    page.get_by_label("Telefon").wait_for()
    assert page.get_by_label("Passwort").count() == 0  # not behind the login
    screenshot(page, "mein-stand-phone")
    page.get_by_text("Ich habe selbst einen Platz gefunden").click()
    page.get_by_text("Ja, ich möchte die Suche beenden").click()
    page.get_by_role("button", name="Suche beenden").click()
    page.get_by_text("Ihre Suche ist beendet").wait_for(timeout=30_000)
    page.get_by_role("button", name="Suche beenden").wait_for(state="detached")  # an ended search offers no forms
    screenshot(page, "mein-stand-ended-phone")
    with Session(committed_db) as session:
        assert session.get(Search, search.id).status == SearchStatus.CANCELLED


def test_capacity_link_in_browser__a_therapist_reports_capacity_on_a_phone(page, streamlit_app, committed_db):
    now = datetime.now(UTC)
    with Session(committed_db, expire_on_commit=False) as session:
        doctor = therapist(session, "Kraus", accepting_patients=None)
        inquiry = sent(session, doctor, [searching_patient(session)], now=now)
        url = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=now)["capacity_url"]  # what the mail carries
        session.commit()
    page.set_viewport_size(PHONE)
    page.goto(f"{streamlit_app}/kapazitaet?token={url.split('token=')[1]}")
    page.get_by_role("heading", name="Kapazität melden").wait_for(timeout=60_000)
    page.get_by_role("button", name="Meldung senden").wait_for()
    page.get_by_text("Ja, ich nehme neue Patient/innen auf").wait_for()
    page.get_by_label("Freie Therapiestunden pro Woche (optional)").wait_for()
    screenshot(page, "kapazitaet-phone")
    page.get_by_text("Ja, ich nehme neue Patient/innen auf").click()
    page.get_by_role("button", name="Meldung senden").click()
    page.get_by_text("Gespeichert. Vielen Dank!").wait_for(timeout=30_000)
    with Session(committed_db) as session:
        assert session.get(Therapist, doctor.id).accepting_patients is True
