"""Staff accounts: validation, password checks, lockout after five failures, audit of every attempt."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.auth import service as auth
from core.auth.models import StaffUser
from core.errors import AuthenticationError, ValidationError

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LOCKOUT = timedelta(minutes=15)
PASSWORD = "korrekt pferd batterie"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def anna(session):
    return auth.create_user(session, email="anna.schmidt@example.org", role="staff", password=PASSWORD)


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("not-an-email", "staff", PASSWORD, "E-mail 'not-an-email' is not a valid address"),
        ("b@example.org", "superuser", PASSWORD, "Role 'superuser' does not exist; use one of: admin, staff"),
        ("b@example.org", "staff", "kurz", "Password has 4 characters; use at least 12"),
    ],
)
def test_create_user__bad_input_is_refused_and_writes_nothing(session, email, role, password, message):
    with pytest.raises(ValidationError, match=message):
        auth.create_user(session, email=email, role=role, password=password)
    assert count(session, StaffUser) == 0
    assert count(session, AuditEvent) == 0


def test_create_user__duplicate_email_any_case_is_refused(session, anna):
    with pytest.raises(ValidationError, match="already exists"):
        auth.create_user(session, email="Anna.Schmidt@Example.org", role="admin", password=PASSWORD)


def test_create_user__password_is_stored_as_argon2_hash(session, anna):
    assert anna.password_hash.startswith("$argon2id$")
    assert PASSWORD not in anna.password_hash


def test_authenticate__right_password_logs_in_and_is_audited(session, anna):
    user = auth.authenticate(session, email="ANNA.schmidt@example.org", password=PASSWORD, now=NOW, lockout=LOCKOUT)
    assert user.id == anna.id
    assert user.last_login_at == NOW
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(anna.id))).all()
    assert "login" in actions


def test_authenticate__wrong_password_and_unknown_user_get_the_same_message(session, anna):
    with pytest.raises(AuthenticationError) as wrong:
        auth.authenticate(session, email=anna.email, password="falsch falsch", now=NOW, lockout=LOCKOUT)
    with pytest.raises(AuthenticationError) as unknown:
        auth.authenticate(session, email="nobody@example.org", password=PASSWORD, now=NOW, lockout=LOCKOUT)
    assert str(wrong.value) == str(unknown.value) == auth.GENERIC_LOGIN_ERROR
    assert session.scalar(select(func.count()).where(AuditEvent.action == "login.failed")) == 2


def test_authenticate__fifth_failure_locks_the_account_and_says_for_how_long(session, anna):
    for attempt in range(4):
        with pytest.raises(AuthenticationError) as error:
            auth.authenticate(session, email=anna.email, password="nope nope", now=NOW, lockout=LOCKOUT)
        assert error.value.code == "invalid", attempt
    with pytest.raises(AuthenticationError) as error:
        auth.authenticate(session, email=anna.email, password="nope nope", now=NOW, lockout=LOCKOUT)
    assert error.value.code == "locked"
    assert error.value.minutes == 15
    # even the right password is refused while locked, with the remaining time
    with pytest.raises(AuthenticationError) as error:
        auth.authenticate(session, email=anna.email, password=PASSWORD, now=NOW + timedelta(minutes=5),
                          lockout=LOCKOUT)  # fmt: skip
    assert error.value.code == "locked"
    assert error.value.minutes == 10
    # after the lock expires the right password works again
    auth.authenticate(session, email=anna.email, password=PASSWORD, now=NOW + LOCKOUT + timedelta(seconds=1),
                             lockout=LOCKOUT)  # fmt: skip
    assert auth.failed_attempts(session, email=anna.email) == 0
    assert auth.locked_minutes(session, email=anna.email, now=NOW + LOCKOUT + timedelta(seconds=1)) is None


def test_create_user_cli__unknown_role_exits_2_and_writes_nothing(repo_root, committed_db):
    result = subprocess.run(
        [sys.executable, "-m", "jobs.create_user", "--email", "c@example.org", "--role", "boss"],
        cwd=repo_root, capture_output=True, text=True, timeout=60, env={**os.environ, "PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: Role 'boss' does not exist; use one of: admin, staff, manager, analyst" in result.stderr
    with committed_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StaffUser)).scalar() == 0


def test_create_user_cli__creates_the_user(repo_root, committed_db):
    result = subprocess.run(
        [sys.executable, "-m", "jobs.create_user", "--email", "lea@example.org", "--role", "manager"],
        cwd=repo_root, capture_output=True, text=True, timeout=60, env={**os.environ, "PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "created manager lea@example.org" in result.stdout
    with committed_db.connect() as conn:
        assert conn.execute(select(StaffUser.role).where(StaffUser.email == "lea@example.org")).scalar() == "manager"


def test_authenticate__unknown_address_locks_and_reads_exactly_like_a_known_one(session, anna):
    """Only existing accounts ever said "gesperrt": five guesses told an attacker the address exists."""
    outcomes = {}
    for email in (anna.email, "nobody@example.org"):
        codes = []
        for _ in range(6):
            with pytest.raises(AuthenticationError) as error:
                auth.authenticate(session, email=email, password="nope nope", now=NOW, lockout=LOCKOUT)
            codes.append((error.value.code, str(error.value), error.value.minutes))
        outcomes[email] = codes
    assert outcomes[anna.email] == outcomes["nobody@example.org"]
    assert outcomes[anna.email][-1][0] == "locked"


def test_authenticate__unknown_address_runs_one_argon2_verify_like_a_known_one(session, anna, monkeypatch):
    """The cost of a login must not tell known from unknown addresses: both run one argon2 verification."""
    from argon2 import PasswordHasher

    verified = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verified.append(hash.split("$")[1])
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    for email in (anna.email, "nobody@example.org", "  "):
        with pytest.raises(AuthenticationError):
            auth.authenticate(session, email=email, password="nope nope", now=NOW, lockout=LOCKOUT)
    assert verified == ["argon2id", "argon2id", "argon2id"]


def test_authenticate__inactive_account_gets_the_generic_message(session, anna):
    anna.is_active = False
    session.flush()
    with pytest.raises(AuthenticationError) as error:
        auth.authenticate(session, email=anna.email, password=PASSWORD, now=NOW, lockout=LOCKOUT)
    assert str(error.value) == auth.GENERIC_LOGIN_ERROR


def _parallel_wrong_guesses(committed_db, email: str, guesses: int, max_failures: int) -> list[BaseException]:
    import threading

    from sqlalchemy.orm import Session

    barrier = threading.Barrier(guesses)
    outcomes: list[BaseException] = []

    def guess() -> None:
        barrier.wait()
        try:
            with Session(committed_db) as db:
                try:
                    auth.authenticate(db, email=email, password="wrong guess", now=NOW, lockout=LOCKOUT,
                                      max_failures=max_failures)  # fmt: skip
                finally:
                    db.commit()  # what the login form does: keep the failure count
        except BaseException as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def committed_anna(committed_db):
    from sqlalchemy.orm import Session

    with Session(committed_db) as db:
        auth.create_user(db, email="anna.schmidt@example.org", role="staff", password=PASSWORD)
        db.commit()
    return "anna.schmidt@example.org"


def test_authenticate__twenty_parallel_wrong_guesses_count_twenty_without_errors(committed_db, committed_anna):
    from sqlalchemy.orm import Session

    outcomes = _parallel_wrong_guesses(committed_db, committed_anna, guesses=20, max_failures=100)
    assert [type(o).__name__ for o in outcomes] == ["AuthenticationError"] * 20
    assert {o.code for o in outcomes} == {"invalid"}
    with Session(committed_db) as db:
        assert auth.failed_attempts(db, email=committed_anna) == 20


def test_authenticate__twenty_parallel_wrong_guesses_lock_the_account(committed_db, committed_anna):
    from sqlalchemy.orm import Session

    outcomes = _parallel_wrong_guesses(committed_db, committed_anna, guesses=20, max_failures=5)
    assert [type(o).__name__ for o in outcomes] == ["AuthenticationError"] * 20
    assert [o.code for o in outcomes].count("locked") >= 16  # the fifth failure locks, later guesses are refused
    with Session(committed_db) as db, pytest.raises(AuthenticationError) as error:
        auth.authenticate(db, email=committed_anna, password=PASSWORD, now=NOW, lockout=LOCKOUT)
    assert error.value.code == "locked"
