"""Two-factor login: enrol with a code from the app, log in with the next one, refuse wrong and replayed codes."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select, text

from core.auth import service as auth
from core.auth import totp
from core.errors import AuthenticationError, ValidationError

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "a-test-secret-key-of-at-least-32-characters"
LOCKOUT = timedelta(minutes=15)


@pytest.fixture
def ada(session):
    return auth.create_user(session, email="ada@example.org", role="admin", password="korrekt pferd batterie")


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def test_enrol__stores_the_secret_sealed_so_a_dump_does_not_reveal_it(session, ada):
    secret = totp.new_secret()
    assert totp.required(ada)
    assert not totp.enrolled(ada)
    totp.enrol(session, user=ada, secret=secret, code=code_at(secret, NOW), now=NOW, secret_key=KEY)
    stored = session.scalar(select(text("totp_secret_sealed")).select_from(text("staff_user")))
    assert secret not in stored
    assert totp.enrolled(ada)


def test_enrol__a_wrong_code_stores_nothing(session, ada):
    secret = totp.new_secret()
    with pytest.raises(ValidationError, match="Code '000000' does not match"):
        totp.enrol(session, user=ada, secret=secret, code="000000", now=NOW, secret_key=KEY)
    assert not totp.enrolled(ada)


def test_verify__the_current_code_works_once_and_a_wrong_one_counts_as_a_failed_login(session, ada):
    secret = totp.new_secret()
    totp.enrol(session, user=ada, secret=secret, code=code_at(secret, NOW), now=NOW, secret_key=KEY)
    later = NOW + timedelta(seconds=60)
    totp.verify(session, user=ada, code=code_at(secret, later), now=later, secret_key=KEY, max_failures=5,
                lockout=LOCKOUT)  # fmt: skip
    with pytest.raises(AuthenticationError) as replay:
        totp.verify(session, user=ada, code=code_at(secret, later), now=later, secret_key=KEY, max_failures=5,
                    lockout=LOCKOUT)  # fmt: skip
    assert replay.value.code == "totp_wrong"
    with pytest.raises(AuthenticationError):
        totp.verify(session, user=ada, code="123 456", now=later, secret_key=KEY, max_failures=5, lockout=LOCKOUT)
    assert auth.failed_attempts(session, email=ada.email) == 2


def test_verify__another_secret_key_cannot_read_the_secret(session, ada):
    secret = totp.new_secret()
    totp.enrol(session, user=ada, secret=secret, code=code_at(secret, NOW), now=NOW, secret_key=KEY)
    with pytest.raises(AuthenticationError, match="SECRET_KEY changed"):
        totp.verify(session, user=ada, code=code_at(secret, NOW), now=NOW, secret_key=KEY + "x", max_failures=5,
                    lockout=LOCKOUT)  # fmt: skip


def test_reset__admins_cannot_switch_off_their_own_two_factor_login(session, ada):
    secret = totp.new_secret()
    totp.enrol(session, user=ada, secret=secret, code=code_at(secret, NOW), now=NOW, secret_key=KEY)
    with pytest.raises(ValidationError, match="Admins must use two-factor login"):
        totp.reset(session, user=ada, actor=ada.email, actor_id=ada.id)
    staff = auth.create_user(session, email="sam@example.org", role="staff", password="korrekt pferd batterie")
    totp.enrol(session, user=staff, secret=secret, code=code_at(secret, NOW), now=NOW, secret_key=KEY)
    totp.reset(session, user=staff, actor=staff.email, actor_id=staff.id)  # optional for everyone else
    assert not totp.enrolled(staff)
