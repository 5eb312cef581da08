"""Staff accounts: create, authenticate (with lockout), and what each role may see.

Example:
    user = create_user(session, email="anna@example.org", role="staff", password="a long passphrase")
    authenticate(session, email="anna@example.org", password="a long passphrase", now=utcnow(), lockout=LOCK)

Failures are counted per address in login_throttle, whether an account exists or not, with one atomic
upsert: a lock reads the same for every address, and parallel guesses all count.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.audit import service as audit
from core.auth.models import LoginThrottle, Role, StaffUser
from core.errors import AuthenticationError, ValidationError
from core.messages import Message, term, words

MIN_PASSWORD_LENGTH = 12  # BSI recommends long passphrases over complexity rules
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
GENERIC_LOGIN_ERROR = Message(
    "auth.login_invalid", "E-mail or password is wrong."
)  # never say which of the two was wrong

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    # verified against for unknown or inactive addresses, so every login costs one argon2 verification
    return _hasher.hash(secrets.token_urlsafe(24))


def password_matches(password_hash: str, password: str) -> bool:
    """Return True if ``password`` fits ``password_hash`` (one argon2 verification, never an exception)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_role(value: str) -> Role:
    """Return the Role named ``value`` or raise a ValidationError listing the valid roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = words([term(f"role.{r.value}", r.value) for r in Role])
        raise ValidationError(
            Message(
                "auth.role_unknown", "Role '{value}' does not exist; use one of: {valid}", value=value, valid=valid
            ),
            field="role",
        ) from None


def check_password(password: str) -> None:
    """Raise ValidationError if ``password`` is too short to be a password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            Message(
                "auth.password_short",
                "Password has {count} characters; use at least {minimum}, e.g. four random words",
                count=len(password),
                minimum=MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str,
    display_name: str | None = None,
    language: str = "de",
    must_change_password: bool = False,
    actor: str = "system",
    actor_id: int | None = None,
) -> StaffUser:
    """Validate and add a staff user; raise ValidationError before writing anything."""
    email = email.strip()
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(
            Message(
                "auth.email_invalid",
                "E-mail '{email}' is not a valid address, e.g. anna.schmidt@example.org",
                email=email,
            ),
            field="email",
        )
    parsed_role = parse_role(role)
    check_password(password)
    if language not in {"de", "en"}:
        raise ValidationError(
            Message("auth.language_unknown", "Language '{language}' is not available; use de or en", language=language),
            field="language",
        )
    if get_by_email(session, email=email) is not None:
        raise ValidationError(
            Message("auth.email_taken", "A user with e-mail '{email}' already exists", email=email), field="email"
        )
    user = StaffUser(
        email=email,
        display_name=(display_name or "").strip() or email.split("@")[0],
        role=parsed_role,
        password_hash=hash_password(password),
        language=language,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="user.created", entity_type="staff_user",
                 entity_id=user.id, details={"role": parsed_role.value})  # fmt: skip
    return user


def get_by_email(session: Session, *, email: str) -> StaffUser | None:
    """Return the user with this e-mail (case-insensitive) or None."""
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))


def throttle_key(email: str) -> str:
    """Return the login_throttle key of an address: a hash, so unknown addresses are not stored as typed."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def failed_attempts(session: Session, *, email: str) -> int:
    """Return the failures counted for ``email`` since its last lock or successful login."""
    return session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == throttle_key(email))) or 0


def locked_minutes(session: Session, *, email: str, now: datetime) -> int | None:
    """Return the minutes ``email`` stays locked (at least 1), or None if it is not locked."""
    until = session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.key == throttle_key(email)))
    if until is None or until <= now:
        return None
    return max(1, round((until - now).total_seconds() / 60))


def _locked_error(minutes: int) -> AuthenticationError:
    return AuthenticationError(
        Message(
            "auth.locked", "Too many failed attempts: the account is locked for {count} more minute(s).", count=minutes
        ),
        code="locked",
        minutes=minutes,
    )


def record_failure(
    session: Session, *, email: str, now: datetime, max_failures: int, lockout: timedelta, why: str
) -> AuthenticationError:
    """Count one failed attempt for ``email`` (atomically), audit it, and return the error to raise.

    The upsert takes the row lock, so parallel failures are all counted; while locked nothing counts.
    """
    table = LoginThrottle.__table__
    lock_until = now + lockout
    locks = max_failures <= 1
    statement = insert(table).values(key=throttle_key(email), failures=0 if locks else 1,
                                     locked_until=lock_until if locks else None)  # fmt: skip
    still_locked = table.c.locked_until > now
    reaches_limit = table.c.failures + 1 >= max_failures

    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((still_locked, table.c.failures), (reaches_limit, 0), else_=table.c.failures + 1),
            "locked_until": case((still_locked, table.c.locked_until), (reaches_limit, lock_until), else_=None),
        },
    ).returning(table.c.failures, table.c.locked_until)
    failures, locked_until = session.execute(statement).one()
    user = get_by_email(session, email=email)
    details: dict[str, object] = {"why": why, "failed_logins": failures}
    if locked_until is not None and locked_until > now:
        details["locked_until"] = locked_until.isoformat()
    audit.record(session, actor=email.strip()[:254] or "?", actor_id=user.id if user else None,
                 action="login.failed", entity_type="staff_user" if user else None,
                 entity_id=user.id if user else None, details=details)  # fmt: skip
    if locked_until is not None and locked_until > now:
        return _locked_error(max(1, round((locked_until - now).total_seconds() / 60)))
    return AuthenticationError(GENERIC_LOGIN_ERROR)


def clear_failures(session: Session, *, email: str) -> None:
    """Forget the failure count and any lock of ``email`` (after a successful login or a reset)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == throttle_key(email)))


def authenticate(
    session: Session, *, email: str, password: str, now: datetime, max_failures: int = 5, lockout: timedelta
) -> StaffUser:
    """Return the user if the password is right; count failures and lock after ``max_failures``.

    Raises AuthenticationError with a generic message, or one that says how long a lock lasts; both read
    the same for unknown addresses. Every attempt is audited (the password never is).
    """
    minutes = locked_minutes(session, email=email, now=now)
    if minutes is not None:
        audit.record(session, actor=email.strip()[:254] or "?", action="login.refused_locked")
        raise _locked_error(minutes)
    user = get_by_email(session, email=email)
    candidate = user if user is not None and user.is_active else None
    # always one argon2 verification: an unknown address must cost what a known one costs
    matches = password_matches(candidate.password_hash if candidate else _dummy_hash(), password)
    if candidate is None or not matches:
        why = "wrong_password" if candidate else ("inactive" if user else "unknown")
        raise record_failure(session, email=email, now=now, max_failures=max_failures, lockout=lockout, why=why)
    clear_failures(session, email=email)
    values: dict[str, object] = {"last_login_at": now}
    if _hasher.check_needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    # a plain UPDATE: a login is no edit, and must not collide with another tab's login on the version column
    session.execute(
        update(StaffUser).where(StaffUser.id == user.id).values(**values).execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(user, name, value)
    audit.record(session, actor=user.email, actor_id=user.id, action="login", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip
    return user


def record_logout(session: Session, *, user_id: int, email: str, reason: str) -> None:
    """Audit a logout (by the user, the session timeout, a deactivation or a role change)."""
    audit.record(session, actor=email, actor_id=user_id, action="logout", entity_type="staff_user",
                 entity_id=user_id, reason=reason)  # fmt: skip
