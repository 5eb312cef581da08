"""In Chromium: an admin filters the audit log by actor, action, patient reference and days, pages, checks the chain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.audit.models import AuditEvent
from core.auth import service as auth
from tests.e2e.conftest import login, screenshot
from tests.support.browser import settled

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def fill(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")


def shows(page, sentence: str) -> None:
    page.get_by_text(sentence).first.wait_for(timeout=30_000)


def test_audit_page__filters_pages_and_shows_the_chain_status(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="root@example.org", role="admin", password=PASSWORD)  # 1 row
        for n in range(60):
            audit.record(session, actor="bulk@example.org", action="patient.viewed", entity_type="patient", entity_id=n)
        audit.record_read(session, actor="anna@example.org", what="call_list", page="calls", references=["P-QQQQ77"])
        session.add(
            AuditEvent(actor="old@example.org", action="login", occurred_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
        )
        session.commit()

    login(page, f"{streamlit_app}/audit", "root@example.org", PASSWORD)
    page.get_by_role("heading", name="Zugriffsprotokoll").wait_for(timeout=60_000)
    shows(page, "Die Kette wurde noch nie geprüft")
    # the table's first entry, not its loading placeholder: the grid draws on a canvas and keeps its rows in a table
    # for screen readers, which get_by_role("row") did not find here (measured), so CSS finds them
    expect(page.locator("[data-testid=stDataFrame] tbody tr").first).to_be_attached(timeout=60_000)
    settled(page)
    screenshot(page, "audit-page")
    with Session(committed_db) as session:  # the 63 above and what this login wrote (login, TOTP enrolment)
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    assert 64 <= total <= 100
    shows(page, f"Seite 1 von 2 · {total} Einträge")

    page.get_by_label("Seite", exact=True).fill("2")
    page.get_by_label("Seite", exact=True).press("Enter")
    shows(page, f"Seite 2 von 2 · {total} Einträge")
    page.get_by_label("Seite", exact=True).fill("1")
    page.get_by_label("Seite", exact=True).press("Enter")

    fill(page, "Wer (E-Mail oder Teil davon)", "anna")
    shows(page, "Seite 1 von 1 · 1 Einträge")
    fill(page, "Wer (E-Mail oder Teil davon)", "")
    fill(page, "Patienten-Referenz", "P-QQQQ77")
    shows(page, "Seite 1 von 1 · 1 Einträge")
    fill(page, "Patienten-Referenz", "P-NIEMAND")
    shows(page, "Keine Einträge für diese Filter.")
    fill(page, "Patienten-Referenz", "")

    page.locator(".st-key-audit_action").get_by_role("combobox").click()
    page.get_by_role("option", name="Akte geöffnet", exact=True).click()
    shows(page, "Seite 1 von 2 · 60 Einträge")
    page.locator(".st-key-audit_action").get_by_role("combobox").click()
    page.get_by_role("option", name="alle Lesezugriffe (read.*)", exact=True).click()
    shows(page, "Seite 1 von 1 · 1 Einträge")
    page.locator(".st-key-audit_action").get_by_role("combobox").click()
    page.get_by_role("option", name="alle Aktionen", exact=True).click()

    page.get_by_role("spinbutton", name="day, Von (Tag)").click()
    page.keyboard.type("01012026")
    page.keyboard.press("Tab")
    page.get_by_role("spinbutton", name="day, Bis (Tag)").click()
    page.keyboard.type("31012026")
    page.keyboard.press("Tab")
    page.get_by_role("heading", name="Zugriffsprotokoll").click()  # close the calendar, as a user would
    shows(page, "Seite 1 von 1 · 1 Einträge")  # only the January login

    page.get_by_role("button", name="Kette jetzt prüfen").click()
    shows(page, "Kette intakt:")
    with committed_db.begin() as conn:  # someone edits a row behind the app's back
        conn.execute(text("UPDATE audit_event SET actor = 'nobody' WHERE actor = 'anna@example.org'"))
    page.get_by_role("button", name="Kette jetzt prüfen").click()
    shows(page, "Kette gebrochen")
    shows(page, "the row was altered or moved")
    screenshot(page, "audit-page-broken-chain")
