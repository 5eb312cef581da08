"""A staff member registers a patient in Chromium, corrects two mistakes, finds the record and starts the search."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.patients.models import Consent, Patient, Search, SearchStatus
from tests.e2e.conftest import login, screenshot
from tests.support.postgres import wait_for

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def consents(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Consent))


def fill(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Tab")  # commit the value like a user leaving the field


def test_register_patient__errors_keep_the_input_then_search_starts_and_pauses(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam Staff")
        session.commit()
    login(page, f"{streamlit_app}/patient_new", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=30_000)

    fill(page, "Vorname *", "Mira")
    fill(page, "Nachname *", "Probefrau")
    page.get_by_role("spinbutton", name="day, Geburtsdatum *").click()
    page.keyboard.type("14021988")  # day, month, year: the field moves on by itself, as for a user
    fill(page, "E-Mail", "mira@")
    fill(page, "PLZ *", "1011")
    fill(page, "Montag", "08:00-13:00")
    fill(page, "Dienstag", "08:00-13:00")
    fill(page, "Mittwoch", "08:00-13:00")
    fill(page, "Donnerstag", "08:00-13:00")
    page.get_by_role("button", name="Speichern").click()

    page.get_by_text("PLZ '1011' must have 5 digits, e.g. 10115").wait_for(timeout=30_000)
    page.get_by_text("E-mail 'mira@' is not a valid address").wait_for()
    assert page.get_by_label("Vorname *").input_value() == "Mira"  # the rest of the input survived
    assert page.get_by_label("Montag").input_value() == "08:00-13:00"
    screenshot(page, "patient-new-errors")

    fill(page, "E-Mail", "mira.probefrau@example.org")
    fill(page, "PLZ *", "10115")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("wurde angelegt").wait_for(timeout=30_000)
    with Session(committed_db) as session:
        patient = session.scalars(select(Patient)).one()
        assert (patient.email, patient.postcode, patient.weekly_hours) == ("mira.probefrau@example.org", "10115", 20)

    # a fresh browser session on a deep link: the login happens in place, then the quick search finds her
    login(page, f"{streamlit_app}/patients", "sam@example.org", PASSWORD)
    quick = page.get_by_placeholder("Name, Referenz oder PLZ")
    quick.fill("Probefrau")
    quick.press("Enter")
    page.get_by_role("link", name=f"Probefrau, Mira · {patient.reference}").click()
    page.get_by_role("heading", name="Mira Probefrau").wait_for(timeout=30_000)

    # both consents; each click is confirmed in the database before the next (a flash text may linger)
    for recorded in (1, 2):
        page.get_by_role("button", name="Einwilligung erfassen").click()
        wait_for(lambda n=recorded: consents(committed_db) == n, timeout=30, what=f"consent {recorded} to be saved")
        page.get_by_text("Einwilligung erfasst.").wait_for(timeout=30_000)
    page.get_by_role("button", name="Platzsuche starten").click()
    page.get_by_text("Platzsuche gestartet.").wait_for(timeout=30_000)
    page.get_by_role("button", name="Pausieren").click()
    page.get_by_text("Suche pausiert bis").wait_for(timeout=30_000)
    screenshot(page, "patient-search-paused")
    with Session(committed_db) as session:
        search = session.scalars(select(Search)).one()
        assert search.status == SearchStatus.PAUSED
        assert search.paused_until is not None
    assert page.outside_requests == []
