"""Login sessions follow the account: deactivation, role change, reset and timeout end open sessions."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.auth import accounts, sessions
from core.auth import service as auth
from core.auth.models import LoginSession
from core.errors import AuthenticationError, ValidationError

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=30)
PASSWORD = "korrekt pferd batterie"


@pytest.fixture
def admin(session):
    return auth.create_user(session, email="ada@example.org", role="admin", password=PASSWORD)


@pytest.fixture
def anna(session):
    return auth.create_user(session, email="anna@example.org", role="staff", password=PASSWORD)


def test_check__an_open_session_returns_the_account_as_it_is_now(session, anna):
    token = sessions.start(session, user=anna, now=NOW)
    current = sessions.check(session, token=token, now=NOW + timedelta(minutes=5), timeout=TIMEOUT)
    assert (current.id, current.email, current.role) == (anna.id, anna.email, "staff")
    # the table keeps only a digest of the token: a dump of it takes over no session
    assert session.scalar(select(LoginSession.id)) != token


def test_check__deactivated_user_is_thrown_out(session, admin, anna):
    token = sessions.start(session, user=anna, now=NOW)
    accounts.deactivate(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=token, now=NOW, timeout=TIMEOUT)
    assert error.value.code == "deactivated"
    assert sessions.open_count(session, user_id=anna.id) == 0


def test_check__deactivated_by_hand_in_the_database_is_thrown_out_too(session, anna):
    token = sessions.start(session, user=anna, now=NOW)
    anna.is_active = False  # e.g. a script or SQL console, without ending the sessions
    session.flush()
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=token, now=NOW, timeout=TIMEOUT)
    assert error.value.code == "deactivated"
    assert sessions.open_count(session, user_id=anna.id) == 0


def test_check__role_change_ends_the_session(session, admin, anna):
    token = sessions.start(session, user=anna, now=NOW)
    accounts.change_role(session, user_id=anna.id, role="analyst", actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=token, now=NOW, timeout=TIMEOUT)
    assert error.value.code == "role_changed"
    fresh = sessions.start(session, user=anna, now=NOW)  # the next login carries the new role
    assert sessions.check(session, token=fresh, now=NOW, timeout=TIMEOUT).role == "analyst"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
    assert (event.actor, event.details["from"], event.details["to"]) == (admin.email, "staff", "analyst")


def test_check__idle_session_times_out_and_logout_ends_it(session, anna):
    idle = sessions.start(session, user=anna, now=NOW)
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=idle, now=NOW + TIMEOUT + timedelta(seconds=1), timeout=TIMEOUT)
    assert error.value.code == "timeout"
    token = sessions.start(session, user=anna, now=NOW)
    sessions.end(session, token=token, now=NOW)
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=token, now=NOW, timeout=TIMEOUT)
    assert error.value.code == "logout"


def test_admin_actions__keep_one_active_admin_and_refuse_self_deactivation(session, admin, anna):
    with pytest.raises(ValidationError, match=r"ada@example\.org is the last active admin"):
        accounts.change_role(session, user_id=admin.id, role="staff", actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(ValidationError, match="cannot deactivate your own account"):
        accounts.deactivate(session, user_id=admin.id, actor=admin.email, actor_id=admin.id, now=NOW)
    assert admin.role.value == "admin"
    assert admin.is_active


def test_password_reset__link_works_once_and_ends_open_sessions(session, admin, anna):
    old = sessions.start(session, user=anna, now=NOW)
    token = accounts.issue_password_reset(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(ValidationError, match="Password has 5 characters"):
        accounts.reset_password(session, token=token, password="short", now=NOW)  # the link survives a typo
    accounts.reset_password(session, token=token, password="ein ganz neues passwort", now=NOW)
    with pytest.raises(AuthenticationError, match="unknown, used or expired"):
        accounts.reset_password(session, token=token, password="noch ein neues passwort", now=NOW)
    with pytest.raises(AuthenticationError) as error:
        sessions.check(session, token=old, now=NOW, timeout=TIMEOUT)
    assert error.value.code == "password_reset"
    assert auth.authenticate(session, email=anna.email, password="ein ganz neues passwort", now=NOW,
                             lockout=TIMEOUT).id == anna.id  # fmt: skip
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.password_reset_issued", "user.password_reset"} <= actions


def test_password_reset__expired_or_replaced_link_is_refused(session, admin, anna):
    first = accounts.issue_password_reset(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    second = accounts.issue_password_reset(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(AuthenticationError, match="unknown, used or expired"):
        accounts.reset_password(session, token=first, password="ein ganz neues passwort", now=NOW)
    late = NOW + accounts.RESET_LINK_VALIDITY + timedelta(seconds=1)
    with pytest.raises(AuthenticationError, match="unknown, used or expired"):
        accounts.reset_password(session, token=second, password="ein ganz neues passwort", now=late)


def test_change_password__forced_change_clears_the_flag_and_refuses_the_old_password(session, admin):
    user = auth.create_user(session, email="neu@example.org", role="staff", password=PASSWORD,
                            must_change_password=True, actor=admin.email, actor_id=admin.id)  # fmt: skip
    with pytest.raises(ValidationError, match="the one you were given"):
        accounts.change_password(session, user_id=user.id, password=PASSWORD, repeat=PASSWORD)
    with pytest.raises(ValidationError, match="differ"):
        accounts.change_password(session, user_id=user.id, password="ein neues passwort", repeat="ein neues passwor")
    accounts.change_password(session, user_id=user.id, password="ein neues passwort", repeat="ein neues passwort")
    assert user.must_change_password is False


def test_cookie__a_reload_finds_the_tabs_session_through_the_cookie(session, anna):
    token = sessions.start(session, user=anna, now=NOW)
    cookie = sessions.bind_cookie(session, code=sessions.handoff(session, token=token, now=NOW), now=NOW)
    current = sessions.check(session, cookie=cookie, now=NOW + timedelta(minutes=20), timeout=TIMEOUT)
    assert current.email == anna.email
    # one session: the tab's token keeps working, and the cookie's use counted as activity for both
    sessions.check(session, token=token, now=NOW + timedelta(minutes=45), timeout=TIMEOUT)
    # the table keeps only digests: neither token nor the code can be read from a dump
    row = session.scalar(select(LoginSession))
    assert cookie not in (row.id, row.cookie_digest)
    assert row.handoff_digest is None


def test_cookie__a_handoff_code_works_once_and_only_for_a_minute(session, anna):
    token = sessions.start(session, user=anna, now=NOW)
    code = sessions.handoff(session, token=token, now=NOW)
    sessions.bind_cookie(session, code=code, now=NOW + timedelta(seconds=5))
    with pytest.raises(AuthenticationError):
        sessions.bind_cookie(session, code=code, now=NOW + timedelta(seconds=6))  # replayed
    late = sessions.handoff(session, token=token, now=NOW)
    with pytest.raises(AuthenticationError):
        sessions.bind_cookie(session, code=late, now=NOW + timedelta(seconds=61))


@pytest.mark.parametrize("ending", ["logout", "timeout", "deactivated", "logout_in_another_tab"])
def test_cookie__a_stolen_cookie_is_useless_once_the_session_ended(session, admin, anna, ending):
    token = sessions.start(session, user=anna, now=NOW)
    cookie = sessions.bind_cookie(session, code=sessions.handoff(session, token=token, now=NOW), now=NOW)
    later = NOW + timedelta(minutes=1)
    if ending == "logout":
        sessions.end(session, cookie=cookie, now=NOW)
    elif ending == "logout_in_another_tab":
        sessions.end(session, token=token, now=NOW)
    elif ending == "timeout":
        later = NOW + TIMEOUT + timedelta(seconds=1)
    else:
        accounts.deactivate(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    with pytest.raises(AuthenticationError):
        sessions.check(session, cookie=cookie, now=later, timeout=TIMEOUT)
    with pytest.raises(AuthenticationError):  # and the tab's token ended with it
        sessions.check(session, token=token, now=later, timeout=TIMEOUT)
    with pytest.raises(AuthenticationError):  # no new cookie for an ended session either
        sessions.handoff(session, token=token, now=later)


def test_cookie__the_signature_refuses_forged_and_damaged_values():
    from core.auth import cookies

    key = "k" * 40
    value = cookies.sign("random-token", secret_key=key)
    assert cookies.unsign(value, secret_key=key) == "random-token"
    assert cookies.unsign(value, secret_key="x" * 40) is None  # signed with another key
    assert cookies.unsign("random-token", secret_key=key) is None  # unsigned
    assert cookies.unsign(value[:-1] + ("0" if value[-1] != "0" else "1"), secret_key=key) is None
    assert cookies.unsign(None, secret_key=key) is None
