"""A staff member registers a patient in Chromium, corrects two mistakes, finds the record and starts the search."""

import json
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.auth.sealing import unseal
from core.config import get_settings
from core.drafts import service as drafts
from core.drafts.models import FormDraft
from core.patients import service as patients
from core.patients.models import Consent, Patient, Search, SearchStatus
from tests.e2e.conftest import login, screenshot
from tests.support.browser import settled
from tests.support.postgres import wait_for

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
EMPTY_DATE = "dd.mm.yyyy"  # the placeholders of an empty date field


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

    page.get_by_text("Die PLZ „1011“ muss 5 Ziffern haben, z. B. 10115.").wait_for(timeout=30_000)
    page.get_by_text("„mira@“ ist keine gültige E-Mail-Adresse").wait_for()
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


def staff_user(committed_db) -> None:
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam Staff")
        session.commit()


def make_patient(committed_db, **changes) -> tuple[int, str]:
    """Commit a patient; return (id, reference)."""
    data = {
        "first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1990, 3, 1),
        "postcode": "10115", "phone": "030 1234567", "email": "lea@example.org", "insurance_type": "statutory",
        "previous_therapy_end": date(2019, 5, 1),
    }  # fmt: skip
    data.update(changes)
    with Session(committed_db) as session:
        patient = patients.create(session, data=data, actor="t@example.org", today=date.today())
        session.commit()
        return patient.id, patient.reference


def date_shown(page, label: str) -> str:
    """The date a date field shows, as DD.MM.YYYY ('' when empty)."""
    parts = [page.get_by_role("spinbutton", name=f"{part}, {label}").inner_text() for part in ("day", "month", "year")]
    return ".".join(parts)


def quick_open(page, query: str, link: str, heading: str) -> None:
    quick = page.get_by_placeholder("Name, Referenz oder PLZ")
    quick.fill(query)
    quick.press("Enter")
    page.get_by_role("link", name=link).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=30_000)
    settled(page)  # the heading comes first; a tab clicked before the run ends can be redrawn unselected


def test_edit__second_visit_via_quick_search_shows_the_record_and_saving_wipes_nothing(
    page, streamlit_app, committed_db
):
    staff_user(committed_db)
    a, a_reference = make_patient(committed_db)
    _b, b_reference = make_patient(
        committed_db, first_name="Ben", last_name="Anders", email="ben@example.org", phone=None
    )
    login(page, f"{streamlit_app}/patient?id={a}", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Lea Beispiel").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Bearbeiten").click()
    expect(page.get_by_label("Vorname *")).to_have_value("Lea", timeout=30_000)  # the tab runs once opened
    screenshot(page, "patient-edit-tab-opened")
    quick_open(page, "Anders", f"Anders, Ben · {b_reference}", "Ben Anders")
    quick_open(page, "Beispiel", f"Beispiel, Lea · {a_reference}", "Lea Beispiel")
    page.get_by_role("tab", name="Bearbeiten").click()
    # read the form once the tab's run is over: right after the click the page is still the one before it
    # (its run state already "not running"), and a field read while the run draws may not show its value yet
    page.get_by_label("Vorname *").wait_for(timeout=30_000)
    settled(page)
    shown = {
        label: page.get_by_label(label, exact=True).input_value()
        for label in ("Vorname *", "Nachname *", "PLZ *", "Telefon")
    }
    assert shown == {"Vorname *": "Lea", "Nachname *": "Beispiel", "PLZ *": "10115", "Telefon": "030 1234567"}
    assert date_shown(page, "Geburtsdatum *") == "01.03.1990"
    assert date_shown(page, "Ende der letzten Psychotherapie") == "01.05.2019"
    fill(page, "Vorname *", "Lea")
    fill(page, "PLZ *", "10117")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Änderungen gespeichert").wait_for(timeout=30_000)
    screenshot(page, "patient-edit-second-visit")
    with Session(committed_db) as session:
        saved = session.get(Patient, a)
        assert (saved.first_name, saved.postcode, saved.phone, saved.birth_date, saved.previous_therapy_end) == (
            "Lea", "10117", "+49301234567", date(1990, 3, 1), date(2019, 5, 1)
        )  # fmt: skip
    assert page.outside_requests == []


def test_new__failed_save_survives_a_visit_to_the_list_and_no_date_is_filled_in(page, streamlit_app, committed_db):
    staff_user(committed_db)
    login(page, f"{streamlit_app}/patient_new", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=30_000)
    fill(page, "Vorname *", "Mira")
    fill(page, "Nachname *", "Probefrau")
    page.get_by_role("spinbutton", name="day, Geburtsdatum *").click()
    page.keyboard.type("14021988")
    fill(page, "PLZ *", "99999")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Die PLZ „99999“ gibt es in Deutschland nicht").wait_for(timeout=30_000)

    page.get_by_role("link", name="Patient/innen", exact=True).click()
    page.get_by_role("heading", name="Patient/innen").wait_for(timeout=30_000)
    page.get_by_test_id("stMainBlockContainer").get_by_role("link", name="Neue/r Patient/in").click()
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=30_000)
    page.get_by_text("Die PLZ „99999“ gibt es in Deutschland nicht").wait_for(timeout=30_000)
    assert page.get_by_label("Vorname *").input_value() == "Mira"
    assert page.get_by_label("PLZ *").input_value() == "99999"
    assert date_shown(page, "Geburtsdatum *") == "14.02.1988"
    assert date_shown(page, "Ende der letzten Psychotherapie") == EMPTY_DATE
    screenshot(page, "patient-new-after-list")

    fill(page, "PLZ *", "10115")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("wurde angelegt").wait_for(timeout=30_000)
    with Session(committed_db) as session:
        saved = session.scalars(select(Patient)).one()
        assert (saved.first_name, saved.birth_date, saved.previous_therapy_end) == ("Mira", date(1988, 2, 14), None)
    assert page.outside_requests == []


def kept_draft(committed_db) -> dict:
    """The widget values of the one form draft on the server ({} while there is none)."""
    with Session(committed_db) as session:
        sealed = session.scalars(select(FormDraft.sealed_values)).all()
    if not sealed:
        return {}
    text = unseal(sealed[0], secret_key=get_settings().resolved_secret_key(), purpose=drafts.PURPOSE)
    return json.loads(text)["widgets"]


def test_new__typed_input_survives_a_reload_and_is_gone_after_the_save(page, streamlit_app, committed_db):
    staff_user(committed_db)
    login(page, f"{streamlit_app}/patient_new", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=60_000)
    fill(page, "Vorname *", "Mira")
    fill(page, "Nachname *", "Entwurf")
    page.get_by_role("spinbutton", name="day, Geburtsdatum *").click()
    page.keyboard.type("14021988")
    fill(page, "PLZ *", "10115")
    # each change is kept on the server as it is typed: wait for the last one, then reload
    wait_for(lambda: kept_draft(committed_db).get("postcode") == "10115", timeout=60, what="the draft with the PLZ")
    assert "Entwurf" not in str(session_rows(committed_db))  # sealed at rest

    page.reload()
    page.get_by_text("Entwurf wiederhergestellt vom").wait_for(timeout=60_000)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=60_000)
    screenshot(page, "patient-new-draft-restored")
    assert page.get_by_label("Vorname *").input_value() == "Mira"
    assert page.get_by_label("Nachname *").input_value() == "Entwurf"
    assert page.get_by_label("PLZ *").input_value() == "10115"
    assert date_shown(page, "Geburtsdatum *") == "14.02.1988"
    assert date_shown(page, "Ende der letzten Psychotherapie") == EMPTY_DATE  # an optional date stays empty
    screenshot(page, "patient-new-draft-restored")

    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("wurde angelegt").wait_for(timeout=60_000)
    assert kept_draft(committed_db) == {}  # the save ended the draft
    page.goto(f"{streamlit_app}/patient_new")
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=60_000)
    page.reload()
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=60_000)
    page.get_by_label("Vorname *").wait_for(timeout=60_000)
    assert page.get_by_label("Vorname *").input_value() == ""
    assert page.get_by_text("Entwurf wiederhergestellt").count() == 0
    with Session(committed_db) as session:
        assert session.scalars(select(Patient.last_name)).all() == ["Entwurf"]
    assert page.outside_requests == []


def session_rows(committed_db) -> list:
    with Session(committed_db) as session:
        return session.execute(text("SELECT * FROM form_draft")).all()


def test_quick_search__finds_a_patient_by_a_one_character_surname(page, streamlit_app, committed_db):
    staff_user(committed_db)
    _id, reference = make_patient(committed_db, first_name="伟", last_name="李", email="li@example.org")
    login(page, f"{streamlit_app}/patients", "sam@example.org", PASSWORD)
    quick_open(page, "李", f"李, 伟 · {reference}", "伟 李")
