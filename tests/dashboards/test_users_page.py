"""User administration: admins create users, hand out one-time reset links; nobody else sees the page."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.auth import service as auth
from core.auth.models import StaffUser
from tests.dashboards.conftest import PASSWORD, log_in, open_page, start_app, texts


def users_page(repo_root, committed_db, role: str = "admin"):
    with Session(committed_db) as session:
        user = auth.create_user(session, email=f"{role}@example.org", role=role, password=PASSWORD)
        session.commit()
        return open_page(repo_root, "users.py", user_id=user.id, email=user.email, role=role), user.id


def test_users__admin_creates_a_user_who_must_change_the_password(repo_root, committed_db):
    at, admin_id = users_page(repo_root, committed_db)
    assert "Benutzerverwaltung" in texts(at)
    at.text_input(key="users_new_email").input("lea@example.org")
    at.text_input(key="users_new_name").input("Lea Beispiel")
    at.selectbox(key="users_new_role").select("manager")
    at.text_input(key="users_new_password").input("vorlaeufiges passwort")
    next(b for b in at.button if b.label == "Anlegen").click()
    at.run()
    assert not at.exception
    assert "lea@example.org ist angelegt." in texts(at)
    table = at.dataframe[0].value
    assert "lea@example.org" in set(table["E-Mail"])
    with Session(committed_db) as session:
        lea = auth.get_by_email(session, email="lea@example.org")
        assert (lea.role.value, lea.must_change_password) == ("manager", True)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                        AuditEvent.entity_id == str(lea.id)))  # fmt: skip
        assert event.actor_id == admin_id


def test_users__bad_input_is_refused_and_creates_nobody(repo_root, committed_db):
    at, _ = users_page(repo_root, committed_db)
    at.text_input(key="users_new_email").input("lea@example.org")
    at.text_input(key="users_new_password").input("kurz")
    next(b for b in at.button if b.label == "Anlegen").click()
    at.run()
    assert "Das Passwort hat 4 Zeichen" in texts(at)
    with Session(committed_db) as session:
        assert session.scalar(select(StaffUser).where(StaffUser.email == "lea@example.org")) is None


def test_users__one_time_reset_link_works_once(repo_root, committed_db):
    at, _ = users_page(repo_root, committed_db)
    with Session(committed_db) as session:
        sam = auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        session.commit()
        sam_id = sam.id
    at.run()
    at.selectbox(key="users_pick").select(sam_id)
    at.run()
    at.button(key="users_reset").click()
    at.run()
    link = at.code[0].value
    assert "/reset?token=" in link
    token = link.split("token=", 1)[1]

    public = start_app(repo_root)  # a logged-out browser
    public.query_params["token"] = token
    public.switch_page("views/password_reset.py").run()
    assert "Passwort neu setzen" in texts(public)
    public.text_input(key="reset_password").input("ein ganz neues passwort")
    public.text_input(key="reset_repeat").input("ein ganz neues passwort")
    public.button[0].click()
    public.run()
    assert "Ihr Passwort ist gespeichert." in texts(public)

    again = start_app(repo_root)
    again.query_params["token"] = token
    again.switch_page("views/password_reset.py").run()
    again.text_input(key="reset_password").input("noch ein anderes passwort")
    again.text_input(key="reset_repeat").input("noch ein anderes passwort")
    again.button[0].click()
    again.run()
    assert "Dieser Link ist unbekannt, schon benutzt oder abgelaufen." in texts(again)
    at = log_in(start_app(repo_root), "sam@example.org", "ein ganz neues passwort")
    assert "Angemeldet als" in texts(at)


def test_users__page_is_only_for_admins(repo_root, committed_db):
    at, _ = users_page(repo_root, committed_db, role="staff")
    assert "Benutzerverwaltung" not in texts(at)
    assert "Kein Zugriff" in texts(at)


def test_account__staff_may_set_up_two_factor_and_switch_it_off(repo_root, committed_db):
    import pyotp

    from core.auth import totp

    with Session(committed_db) as session:
        sam_id = auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD).id
        session.commit()
    at = open_page(repo_root, "account.py", user_id=sam_id, email="sam@example.org", role="staff")
    assert "nicht eingerichtet (freiwillig für Ihre Rolle)" in texts(at)
    at.button(key="account_totp_start").click()
    at.run()
    secret = at.session_state["account_totp_secret"]
    at.text_input(key="account_totp_code").input(pyotp.TOTP(secret).now())
    at.button[0].click()
    at.run()
    assert "Die Zwei-Faktor-Anmeldung ist eingerichtet." in texts(at)
    with Session(committed_db) as session:
        assert totp.enrolled(auth.get_by_email(session, email="sam@example.org"))
    at.button(key="account_totp_disable").click()
    at.run()
    assert "nicht eingerichtet" in texts(at)
