"""Two-factor login with time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

Example:
    secret = new_secret()                                   # shown once as a QR code during enrolment
    enrol(session, user=user, secret=secret, code="123456", now=now, secret_key=key)
    verify(session, user=user, code="654321", now=now, secret_key=key, max_failures=5, lockout=LOCK)

Required for admins, optional for the other roles. The secret is stored sealed (core.auth.sealing) and a
code is accepted once: the time step of the last accepted code is kept, so a seen code cannot be replayed.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth import sealing
from core.auth.models import Role, StaffUser
from core.auth.service import clear_failures, locked_minutes, record_failure
from core.errors import AuthenticationError, ValidationError
from core.messages import Message

ISSUER = "Vermittlungs-Werkbank"
STEP_SECONDS = 30  # what every authenticator app uses
DRIFT_STEPS = 1  # accept the previous and the next code too: phone clocks drift by some seconds


def new_secret() -> str:
    """Return a fresh random base32 secret (160 bits) for one user's authenticator app."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, email: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def required(user: StaffUser) -> bool:
    """Return True if ``user`` may not log in without two-factor login (admins)."""
    return user.role == Role.ADMIN


def enrolled(user: StaffUser) -> bool:
    return user.totp_secret_sealed is not None


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def enrol(session: Session, *, user: StaffUser, secret: str, code: str, now: datetime, secret_key: str) -> None:
    """Store ``secret`` (sealed) once ``code`` proves the app has it; raise ValidationError otherwise."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise ValidationError(
            Message(
                "auth.totp_enrol_wrong",
                "Code '{code}' does not match; enter the current 6-digit code of your authenticator app "
                "(and check that your phone's clock is right)",
                code=code.strip(),
            ),
            field="code",
        )
    user.totp_secret_sealed = sealing.seal(secret, secret_key=secret_key)
    user.totp_last_step = step
    session.flush()
    audit.record(session, actor=user.email, actor_id=user.id, action="totp.enrolled", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip


def verify(
    session: Session,
    *,
    user: StaffUser,
    code: str,
    now: datetime,
    secret_key: str,
    max_failures: int,
    lockout: timedelta,
) -> None:
    """Accept ``code`` for ``user`` once, or count a failed login and raise AuthenticationError."""
    minutes = locked_minutes(session, email=user.email, now=now)
    if minutes is not None:
        raise AuthenticationError(
            Message("auth.locked", "The account is locked for {count} more minute(s).", count=minutes),
            code="locked",
            minutes=minutes,
        )
    if user.totp_secret_sealed is None:
        raise AuthenticationError(
            Message("auth.totp_missing", "Two-factor login is not set up for this account"), code="totp_missing"
        )
    step = _matching_step(sealing.unseal(user.totp_secret_sealed, secret_key=secret_key), code, now)
    accepted = 0
    if step is not None:
        # atomic: of two logins racing with the same code, only one moves the step forward
        accepted = session.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id, or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not accepted:
        error = record_failure(session, email=user.email, now=now, max_failures=max_failures, lockout=lockout,
                               why="wrong_totp")  # fmt: skip
        if error.code == "locked":
            raise error
        raise AuthenticationError(
            Message("auth.totp_wrong", "The code is wrong or was already used; enter the current one"),
            code="totp_wrong",
        )
    clear_failures(session, email=user.email)


def reset(session: Session, *, user: StaffUser, actor: str, actor_id: int | None) -> None:
    """Forget ``user``'s authenticator (lost phone; or the user turns it off): admins enrol again at next login."""
    if actor_id == user.id and required(user):
        raise ValidationError(
            Message("auth.totp_required", "Admins must use two-factor login; another admin can reset it"), field="totp"
        )
    user.totp_secret_sealed = None
    user.totp_last_step = None
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="totp.reset", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip
