"""A staff member logs a call that did not reach the patient, in Chromium, and finds the call back on Heute."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.auth import service as auth
from core.patients import service as patients
from core.patients.call_models import FollowUpTask, PatientCall
from tests.e2e.conftest import login, screenshot
from tests.support.browser import settled, violations

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_not_reached_call__becomes_a_call_back_task_on_heute(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam Staff")
        patient = patients.create(
            session,
            data={"first_name": "Mira", "last_name": "Probefrau", "gender": "female", "birth_date": date(1988, 2, 14),
                  "postcode": "10115", "phone": "030 1234567", "insurance_type": "statutory"},
            actor="t@example.org", today=clock.today(),
        )  # fmt: skip
        session.commit()
        patient_id, reference = patient.id, patient.reference
    login(page, f"{streamlit_app}/patient?id={patient_id}", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Mira Probefrau").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Anrufe & Aufgaben").click()
    page.get_by_text("Noch keine Anrufe erfasst.").wait_for(timeout=30_000)
    settled(page)
    assert violations(page) == []  # axe: no serious or critical findings in the tab

    page.get_by_text("Nicht erreicht", exact=True).click()
    note = page.get_by_role("textbox", name="Notiz (optional)", exact=True)
    note.fill("Mailbox, um Rückruf am Nachmittag gebeten")
    note.press("Tab")
    page.get_by_role("spinbutton", name="day, Rückruf am (optional)").click()
    page.keyboard.type(f"{clock.today():%d%m%Y}")  # the patient is to be called back this afternoon
    page.get_by_role("button", name="Anruf speichern").click()

    page.get_by_text(f"Anruf gespeichert. Aufgabe „Zurückrufen“ fällig am {clock.today():%d.%m.%Y}.").wait_for(
        timeout=30_000
    )
    page.get_by_text("heute fällig").first.wait_for()
    screenshot(page, "patient-calls-tab")
    settled(page)
    assert violations(page) == []  # with a call in the history and a task
    page.get_by_role("heading", name="Neue Aufgabe").scroll_into_view_if_needed()
    screenshot(page, "patient-calls-history")
    with Session(committed_db) as session:
        assert session.scalars(select(PatientCall.outcome)).all() == ["not_reached"]
        assert session.scalars(select(FollowUpTask.due_on)).all() == [clock.today()]

    assert note.input_value() == ""  # a fresh form for the next call
    page.get_by_role("link", name="Heute", exact=True).click()
    link = page.get_by_role("link", name=f"{reference} · Zurückrufen · heute fällig")
    link.wait_for(timeout=30_000)
    page.get_by_text("1 Aufgabe heute fällig.").wait_for()
    screenshot(page, "heute-tasks-due")
    link.click()
    page.get_by_role("heading", name="Mira Probefrau").wait_for(timeout=30_000)
    assert page.outside_requests == []
