"""Staff accounts: create, authenticate (with lockout), and what each role may see.

Example:
    user = create_user(session, email="anna@example.org", role="staff", password="a long passphrase")
    authenticate(session, email="anna@example.org", password="a long passphrase", now=utcnow())
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.models import Role, StaffUser
from core.errors import AuthenticationError, ValidationError

MIN_PASSWORD_LENGTH = 12  # BSI recommends long passphrases over complexity rules
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
GENERIC_LOGIN_ERROR = "E-mail or password is wrong."  # never say which of the two was wrong

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def parse_role(value: str) -> Role:
    """Return the Role named ``value`` or raise a ValidationError listing the valid roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ValidationError(f"Role '{value}' does not exist; use one of: {valid}", field="role") from None


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str,
    display_name: str | None = None,
    language: str = "de",
    actor: str = "system",
) -> StaffUser:
    """Validate and add a staff user; raise ValidationError before writing anything."""
    email = email.strip()
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(f"E-mail '{email}' is not a valid address, e.g. anna.schmidt@example.org", field="email")
    parsed_role = parse_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}, e.g. four random words",
            field="password",
        )
    if language not in {"de", "en"}:
        raise ValidationError(f"Language '{language}' is not available; use de or en", field="language")
    if get_by_email(session, email=email) is not None:
        raise ValidationError(f"A user with e-mail '{email}' already exists", field="email")
    user = StaffUser(
        email=email,
        display_name=display_name or email.split("@")[0],
        role=parsed_role,
        password_hash=hash_password(password),
        language=language,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.created", entity_type="staff_user", entity_id=user.id,
                 details={"role": parsed_role.value})  # fmt: skip
    return user


def get_by_email(session: Session, *, email: str) -> StaffUser | None:
    """Return the user with this e-mail (case-insensitive) or None."""
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))


def authenticate(
    session: Session, *, email: str, password: str, now: datetime, max_failures: int = 5, lockout: timedelta
) -> StaffUser:
    """Return the user if the password is right; count failures and lock after ``max_failures``.

    Raises AuthenticationError with a generic message, or one that says how long a lock lasts.
    Every attempt is audited (the password never is).
    """
    user = get_by_email(session, email=email)
    if user is None or not user.is_active:
        audit.record(session, actor=email.strip()[:254] or "?", action="login.failed", details={"why": "unknown"})
        raise AuthenticationError(GENERIC_LOGIN_ERROR)
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, round((user.locked_until - now).total_seconds() / 60))
        audit.record(session, actor=user.email, actor_id=user.id, action="login.refused_locked",
                     entity_type="staff_user", entity_id=user.id)  # fmt: skip
        raise AuthenticationError(
            f"Too many failed attempts: the account is locked for {minutes} more minute(s).",
            code="locked",
            minutes=minutes,
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        details = {"failed_logins": user.failed_logins}
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            details["locked_until"] = user.locked_until.isoformat()
        audit.record(session, actor=user.email, actor_id=user.id, action="login.failed",
                     entity_type="staff_user", entity_id=user.id, details=details)  # fmt: skip
        if user.locked_until is not None and user.locked_until > now:
            minutes = round(lockout.total_seconds() / 60)
            raise AuthenticationError(
                f"Too many failed attempts: the account is locked for {minutes} minutes.",
                code="locked",
                minutes=minutes,
            ) from None
        raise AuthenticationError(GENERIC_LOGIN_ERROR) from None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, actor=user.email, actor_id=user.id, action="login", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip
    return user


def record_logout(session: Session, *, user_id: int, email: str, reason: str) -> None:
    """Audit a logout (by the user or by the session timeout)."""
    audit.record(session, actor=email, actor_id=user_id, action="logout", entity_type="staff_user",
                 entity_id=user_id, reason=reason)  # fmt: skip
