"""The login gate: nothing without a login, generic errors, lockout message, timeout, logout, language."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from tests.dashboards.conftest import log_in, start_app, texts


def test_login__page_shows_only_the_form(repo_root, committed_db):
    at = start_app(repo_root)
    assert not at.exception
    assert "Anmeldung" in texts(at)
    assert "Systemstatus" not in texts(at)
    assert at.text_input(key="login_password").value == ""


def test_login__empty_form_asks_for_both_fields(repo_root, committed_db):
    at = start_app(repo_root)
    at.button[0].click()
    at.run()
    assert "Bitte E-Mail und Passwort eingeben." in texts(at)


def test_login__wrong_password_gets_a_generic_message_and_keeps_the_email(repo_root, make_user):
    email = make_user()
    at = log_in(start_app(repo_root), email, "falsches passwort")
    assert "E-Mail oder Passwort ist falsch." in texts(at)
    assert at.text_input(key="login_email").value == email
    with Session(__import__("core.db", fromlist=["get_engine"]).get_engine()) as session:
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "login.failed")).all()


def test_login__five_failures_lock_the_account_and_say_for_how_long(repo_root, make_user):
    email = make_user()
    at = start_app(repo_root)
    for _ in range(5):
        at = log_in(at, email, "falsches passwort")
    assert "das Konto ist noch 15 Minute(n) gesperrt" in texts(at) or "Zu viele Fehlversuche" in texts(at)
    at = log_in(at, email)  # the right password is refused while locked
    assert "Zu viele Fehlversuche" in texts(at)
    assert "Angemeldet als" not in texts(at)


def test_login__success_opens_the_first_page_of_the_menu(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user())
    assert not at.exception
    page = texts(at)
    assert "Patient/innen" in page  # the patient list is the first page for staff and admins
    assert "Angemeldet als" in page
    assert "Anmeldung" not in page


def test_session__expires_after_the_idle_timeout(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user())
    at.session_state["last_seen"] = datetime.now(UTC) - timedelta(minutes=31)
    at.run()
    assert "Sitzung ist nach 30 Minuten ohne Aktivität abgelaufen" in texts(at)
    assert "Angemeldet als" not in texts(at)


def test_logout__returns_to_the_login_form(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user())
    at.button(key="logout").click()
    at.run()
    assert "Sie sind abgemeldet." in texts(at)
    assert "Anmeldung" in texts(at)


def test_language__switch_to_english_translates_the_page(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user())
    at.selectbox(key="sidebar_language").select("en")
    at.run()
    page = texts(at)
    assert "Patients" in page
    assert "No patients yet." in page
