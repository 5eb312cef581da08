"""The login gate: nothing without a login, generic errors, lockout message, timeout, logout, language."""

from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.auth.models import LoginSession
from tests.dashboards.conftest import PASSWORD, log_in, start_app, texts


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
    assert [title.value for title in at.title] == ["Heute"]  # the first page for staff, managers and admins
    assert "Angemeldet als" in page
    assert "Anmeldung" not in page


def test_session__expires_after_the_idle_timeout(repo_root, make_user, committed_db):
    at = log_in(start_app(repo_root), make_user())
    with committed_db.begin() as conn:  # the session was last seen 31 minutes ago
        conn.execute(update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
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
    assert "Nothing to do." in page  # the start page, "Heute", in English


def page_links(at) -> list[str]:
    return [link.proto.label for link in at.get("page_link")]


def _admin_action(committed_db, action, email: str, **values) -> None:
    from core.auth import service as auth

    with Session(committed_db) as session:
        admin = auth.get_by_email(session, email="boss@example.org") or auth.create_user(
            session, email="boss@example.org", role="admin", password="ein sehr langes passwort"
        )
        target = auth.get_by_email(session, email=email)
        action(session, user_id=target.id, actor=admin.email, actor_id=admin.id, now=datetime.now(UTC), **values)
        session.commit()


def test_session__deactivated_user_is_thrown_out_on_the_next_click(repo_root, make_user, committed_db):
    from core.auth import accounts

    email = make_user(email="sam@example.org", role="staff")
    at = log_in(start_app(repo_root), email)
    assert "Angemeldet als" in texts(at)
    _admin_action(committed_db, accounts.deactivate, email)
    at.run()  # the next click
    assert "Ihr Konto wurde deaktiviert." in texts(at)
    assert "Angemeldet als" not in texts(at)
    assert "Patient/innen" not in texts(at)


def test_session__role_change_takes_effect_on_the_next_click(repo_root, make_user, committed_db):
    from core.auth import accounts

    email = make_user(email="sam@example.org", role="staff")
    at = log_in(start_app(repo_root), email)
    _admin_action(committed_db, accounts.change_role, email, role="analyst")
    at.run()
    assert "Ihre Rolle wurde geändert. Bitte melden Sie sich erneut an." in texts(at)
    at = log_in(at, email)
    assert "(Analyse)" in texts(at)  # the sidebar names the new role
    # still on the patient list's address, which analysts may not open
    assert "Ihre Rolle (Analyse) darf diese Seite nicht öffnen." in texts(at)
    assert "Zur Startseite" in page_links(at)


def test_login__analyst_lands_on_their_first_page_not_the_public_answer_page(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user(email="ana@example.org", role="analyst"))
    assert not at.exception
    assert "Angebot und Nachfrage" in [title.value for title in at.title]
    assert "Antwort auf unsere Anfrage" not in texts(at)


def test_login__deep_link_to_a_page_the_role_may_not_open_says_no_access(repo_root, make_user):
    at = start_app(repo_root)
    at.switch_page("views/patients.py").run()  # a deep link to the patient list, then the login
    at = log_in(at, make_user(email="ana@example.org", role="analyst"))
    assert "Kein Zugriff" in texts(at)
    assert "Zur Startseite" in page_links(at)
    assert "Ihre Rolle (Analyse) darf diese Seite nicht öffnen." in texts(at)
    assert "Patient/innen" not in [title.value for title in at.title]


def _password_only(at, email: str, password: str = PASSWORD):
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def _enter_code(at, step: str, code: str):
    at.text_input(key=f"{step}_code").input(code)
    at.button(key=f"{step}_submit").click()
    return at.run()


def test_login__admin_must_enrol_two_factor_and_cannot_skip_it(repo_root, make_user):
    at = _password_only(start_app(repo_root), make_user(email="ada@example.org", role="admin"))
    assert "Zwei-Faktor-Anmeldung einrichten" in texts(at)
    assert "Angemeldet als" not in texts(at)
    at.switch_page("views/status.py").run()  # trying to go elsewhere keeps the enrolment in place
    assert "Zwei-Faktor-Anmeldung einrichten" in texts(at)
    assert "Angemeldet als" not in texts(at)
    at = _enter_code(at, "enrol", "000000")
    assert "Der Code passt nicht." in texts(at)
    secret = at.session_state["login_pending"]["secret"]
    at = _enter_code(at, "enrol", pyotp.TOTP(secret).now())
    assert "Angemeldet als" in texts(at)


def test_login__enrolled_user_needs_the_current_code_and_a_wrong_one_is_refused(repo_root, make_user, committed_db):
    from core.auth import service as auth
    from core.auth import totp
    from core.config import get_settings

    email = make_user(email="sam@example.org", role="staff")
    secret = totp.new_secret()
    with Session(committed_db) as session:
        totp.enrol(session, user=auth.get_by_email(session, email=email), secret=secret,
                   code=pyotp.TOTP(secret).now(), now=datetime.now(UTC),
                   secret_key=get_settings().resolved_secret_key())  # fmt: skip
        session.commit()
    at = _password_only(start_app(repo_root), email)
    assert "Bestätigungscode" in texts(at)
    assert "Angemeldet als" not in texts(at)
    at = _enter_code(at, "totp", "000000")
    assert "Der Code ist falsch oder wurde schon verwendet." in texts(at)
    at = _enter_code(at, "totp", pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30)))
    assert "Angemeldet als" in texts(at)


def test_login__first_login_with_a_temporary_password_forces_a_new_one(repo_root, committed_db):
    from core.auth import service as auth

    with Session(committed_db) as session:
        auth.create_user(session, email="neu@example.org", role="staff", password=PASSWORD, must_change_password=True)
        session.commit()
    at = _password_only(start_app(repo_root), "neu@example.org")
    assert "Neues Passwort wählen" in texts(at)
    assert "Angemeldet als" not in texts(at)  # no menu, no page until the password is changed
    at.text_input(key="change_password").input("mein eigenes neues passwort")
    at.text_input(key="change_repeat").input("mein eigenes neues passwort")
    at.button[0].click()
    at.run()
    assert "Angemeldet als" in texts(at)
    assert "Patient/innen" in texts(at)
