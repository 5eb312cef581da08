"""Logins in Chromium: status page, sessions that follow the account, two-factor login, user administration."""

from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy.orm import Session

from core.auth import accounts
from core.auth import service as auth
from core.config import get_settings
from tests.e2e.conftest import login, screenshot, totp_code

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def make_user(committed_db, email: str, role: str, **extra) -> int:
    with Session(committed_db) as session:
        user = auth.create_user(session, email=email, role=role, password=PASSWORD, **extra)
        session.commit()
        return user.id


def admin_does(committed_db, action, user_id: int, **values) -> None:
    """What an admin's click does elsewhere: the change is committed by another session."""
    with Session(committed_db) as session:
        admin = auth.get_by_email(session, email="boss@example.org") or auth.create_user(
            session, email="boss@example.org", role="admin", password=PASSWORD
        )
        action(session, user_id=user_id, actor=admin.email, actor_id=admin.id, now=datetime.now(UTC), **values)
        session.commit()


def test_login_in_browser__reaches_the_status_page(page, streamlit_app, committed_db):
    make_user(committed_db, "mia@example.org", "admin", display_name="Mia Muster")

    login(page, streamlit_app, "mia@example.org", "falsches passwort", expect_success=False)
    page.get_by_text("E-Mail oder Passwort ist falsch.").wait_for(timeout=30_000)

    login(page, f"{streamlit_app}/status", "mia@example.org", PASSWORD)  # a deep link survives the login
    page.get_by_role("heading", name="Systemstatus").wait_for(timeout=30_000)
    page.get_by_text("erreichbar", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Angemeldet als").wait_for()  # the sidebar menu is there, not a bare page
    page.get_by_role("heading", name="Hintergrundjobs").wait_for()
    assert page.get_by_text("Migrationsstand").is_visible()
    page.locator("table").get_by_text("heartbeat", exact=True).wait_for()
    screenshot(page, "status-page")
    assert page.outside_requests == []


def test_session_in_browser__deactivated_user_is_thrown_out_and_a_role_change_applies_on_the_next_click(
    page, streamlit_app, committed_db
):
    sam = make_user(committed_db, "sam@example.org", "staff")
    login(page, streamlit_app, "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Heute").wait_for(timeout=30_000)  # staff land on "Heute"

    admin_does(committed_db, accounts.change_role, sam, role="analyst")
    page.get_by_role("link", name="Systemstatus").click()
    page.get_by_text("Ihre Rolle wurde geändert. Bitte melden Sie sich erneut an.").wait_for(timeout=30_000)
    page.get_by_text("Angemeldet als").wait_for(state="hidden", timeout=30_000)  # stale elements leave at rerun end

    login(page, streamlit_app, "sam@example.org", PASSWORD)  # now an analyst: their own start page
    page.get_by_role("heading", name="Angebot und Nachfrage").wait_for(timeout=30_000)
    page.goto(f"{streamlit_app}/patients")  # a page analysts may not open; the login survives the new address
    page.get_by_text("Ihre Rolle (Analyse) darf diese Seite nicht öffnen.").wait_for(timeout=30_000)
    screenshot(page, "no-access")
    page.get_by_role("link", name="Zur Startseite").click()
    page.get_by_role("heading", name="Angebot und Nachfrage").wait_for(timeout=30_000)

    admin_does(committed_db, accounts.deactivate, sam)
    page.get_by_role("link", name="Systemstatus").click()
    page.get_by_text("Ihr Konto wurde deaktiviert.").wait_for(timeout=30_000)
    # Streamlit removes the previous run's elements when the rerun ends; they must go and stay gone
    page.get_by_text("Angemeldet als").wait_for(state="hidden", timeout=30_000)
    login(page, streamlit_app, "sam@example.org", PASSWORD, expect_success=False)
    page.get_by_text("E-Mail oder Passwort ist falsch.").wait_for(timeout=30_000)


def test_two_factor_in_browser__admin_enrols_then_logs_in_with_a_code_and_a_wrong_one_is_refused(
    page, streamlit_app, committed_db
):
    make_user(committed_db, "ada@example.org", "admin")
    login(page, streamlit_app, "ada@example.org", PASSWORD, expect_success=False)
    page.get_by_role("heading", name="Zwei-Faktor-Anmeldung einrichten").wait_for(timeout=30_000)
    page.get_by_role("img").first.wait_for()  # the QR code for the app
    screenshot(page, "totp-enrolment")
    assert not page.get_by_role("button", name="Überspringen").count()  # admins cannot skip
    page.get_by_label("Bestätigungscode (6 Ziffern)").fill("000000")
    page.get_by_role("button", name="Bestätigen").click()
    page.get_by_text("Der Code passt nicht.").wait_for(timeout=30_000)
    secret = page.locator("code").first.inner_text().replace(" ", "")
    page.get_by_label("Bestätigungscode (6 Ziffern)").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bestätigen").click()
    page.get_by_text("Angemeldet als").wait_for(timeout=30_000)
    page.get_by_role("button", name="Abmelden").click()
    page.get_by_text("Sie sind abgemeldet.").wait_for(timeout=30_000)

    login(page, streamlit_app, "ada@example.org", PASSWORD, expect_success=False)
    page.get_by_role("heading", name="Bestätigungscode").wait_for(timeout=30_000)
    page.get_by_label("Bestätigungscode (6 Ziffern)").fill("123456")
    page.get_by_role("button", name="Bestätigen").click()
    page.get_by_text("Der Code ist falsch oder wurde schon verwendet.").wait_for(timeout=30_000)
    page.get_by_text("Angemeldet als").wait_for(state="hidden", timeout=30_000)  # stale elements leave at rerun end
    page.get_by_label("Bestätigungscode (6 Ziffern)").fill(totp_code(page, "ada@example.org"))
    page.get_by_role("button", name="Bestätigen").click()
    page.get_by_text("Angemeldet als").wait_for(timeout=30_000)


def test_user_admin_in_browser__create_user_forced_change_and_one_time_reset_link(page, browser, streamlit_app,
                                                                                   committed_db):  # fmt: skip
    make_user(committed_db, "ada@example.org", "admin", display_name="Ada Admin")
    login(page, f"{streamlit_app}/users", "ada@example.org", PASSWORD)
    page.get_by_role("heading", name="Benutzerverwaltung").wait_for(timeout=30_000)
    form = page.get_by_test_id("stForm")
    form.get_by_label("E-Mail").fill("lea@example.org")
    form.get_by_label("Name").fill("Lea Beispiel")
    form.get_by_label("Vorläufiges Passwort").fill("vorlaeufiges passwort")
    form.get_by_role("button", name="Anlegen").click()
    page.get_by_text("lea@example.org ist angelegt.").wait_for(timeout=30_000)
    screenshot(page, "users-page")

    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE").new_page()
    login(other, streamlit_app, "lea@example.org", "vorlaeufiges passwort", expect_success=False)
    other.get_by_role("heading", name="Neues Passwort wählen").wait_for(timeout=30_000)
    other.get_by_label("Neues Passwort", exact=True).fill("leas eigenes passwort")
    other.get_by_label("Neues Passwort wiederholen").fill("leas eigenes passwort")
    other.get_by_role("button", name="Passwort speichern").click()
    other.get_by_text("Angemeldet als").wait_for(timeout=30_000)

    page.get_by_role("combobox", name="Benutzer/in").click()
    page.get_by_role("option", name="lea@example.org").click()
    page.get_by_role("button", name="Link zum Zurücksetzen des Passworts erzeugen").click()
    page.get_by_text("Einmal-Link für lea@example.org").wait_for(timeout=30_000)
    link = page.locator("code").filter(has_text="/reset?token=").inner_text().strip()
    assert link.startswith(f"{get_settings().public_base_url}/reset?token=")
    link = f"{streamlit_app}/reset?token={link.split('token=', 1)[1]}"  # this test's server, not PUBLIC_BASE_URL

    visitor = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE").new_page()
    for attempt in ("ein ganz neues passwort", "noch ein anderes passwort"):
        visitor.goto(link)
        visitor.get_by_role("heading", name="Passwort neu setzen").wait_for(timeout=60_000)
        visitor.get_by_label("Neues Passwort", exact=True).fill(attempt)
        visitor.get_by_label("Neues Passwort wiederholen").fill(attempt)
        visitor.get_by_role("button", name="Passwort speichern").click()
        if attempt.startswith("ein"):
            visitor.get_by_text("Ihr Passwort ist gespeichert.").wait_for(timeout=30_000)
            screenshot(visitor, "password-reset")
        else:  # the link works once
            visitor.get_by_text("Dieser Link ist unbekannt, schon benutzt oder abgelaufen.").wait_for(timeout=30_000)
    visitor.context.close()

    other.get_by_role("link", name="Systemstatus").click()  # the reset ended Lea's open session
    other.get_by_text("Ihr Passwort wurde zurückgesetzt.").wait_for(timeout=30_000)
    login(other, streamlit_app, "lea@example.org", "ein ganz neues passwort")
    other.context.close()
    assert page.outside_requests == []
