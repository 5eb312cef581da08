"""Administering staff accounts: role changes, deactivation, one-time reset links, password changes.

Example:
    change_role(session, user_id=7, role="manager", actor="admin@example.org", actor_id=1, now=now)
    token = issue_password_reset(session, user_id=7, actor="admin@example.org", actor_id=1, now=now)
    reset_password(session, token=token, password="a new long passphrase", now=now)

Every action is audited. Deactivation, role change and password reset end the user's open sessions, so
the change takes effect on the user's next click.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth import sessions
from core.auth.models import PasswordReset, Role, StaffUser
from core.auth.service import check_password, clear_failures, hash_password, parse_role, password_matches
from core.errors import AuthenticationError, NotFound, ValidationError
from core.messages import Message

RESET_LINK_VALIDITY = timedelta(hours=48)  # long enough to reach a colleague over a weekend, short for a leak


def get_all(session: Session) -> list[StaffUser]:
    """Return every staff user, active ones first, by e-mail."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.is_active.desc(), func.lower(StaffUser.email))))


def get(session: Session, *, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(
            Message(
                "auth.user_not_found", "Staff user {key} does not exist; pick one from the user list", key=str(user_id)
            )
        )
    return user


def _other_active_admins(session: Session, *, user_id: int) -> int:
    return session.scalar(
        select(func.count()).where(StaffUser.role == Role.ADMIN, StaffUser.is_active, StaffUser.id != user_id)
    )


LAST_ADMIN = {"role": "given another role", "deactivated": "deactivated"}  # what the last admin cannot be


def _keep_an_admin(session: Session, user: StaffUser, what: str) -> None:
    if user.role == Role.ADMIN and user.is_active and _other_active_admins(session, user_id=user.id) == 0:
        raise ValidationError(
            Message(
                f"auth.last_admin.{what}",
                "{email} is the last active admin and cannot be "
                + LAST_ADMIN[what]
                + "; make another user admin first",
                email=user.email,
            ),
            field="role",
        )


def change_role(session: Session, *, user_id: int, role: str, actor: str, actor_id: int | None, now: datetime) -> None:
    """Give a user another role; their open sessions end, so the new role applies from their next click."""
    user = get(session, user_id=user_id)
    new_role = parse_role(role)
    if new_role == user.role:
        return
    if new_role != Role.ADMIN:
        _keep_an_admin(session, user, "role")
    old_role = user.role
    user.role = new_role
    session.flush()
    ended = sessions.end_all(session, user_id=user.id, now=now, reason="role_changed")
    details = {"from": old_role.value, "to": new_role.value, "sessions_ended": ended}
    audit.record(session, actor=actor, actor_id=actor_id, action="user.role_changed", entity_type="staff_user",
                 entity_id=user.id, details=details)  # fmt: skip


def deactivate(session: Session, *, user_id: int, actor: str, actor_id: int | None, now: datetime) -> None:
    """Deactivate a user: no more logins, and their open sessions end at once."""
    user = get(session, user_id=user_id)
    if user.id == actor_id:
        raise ValidationError(
            Message("auth.deactivate_self", "You cannot deactivate your own account; ask another admin"), field="user"
        )
    if not user.is_active:
        return
    _keep_an_admin(session, user, "deactivated")
    user.is_active = False
    session.flush()
    ended = sessions.end_all(session, user_id=user.id, now=now, reason="deactivated")
    audit.record(session, actor=actor, actor_id=actor_id, action="user.deactivated", entity_type="staff_user",
                 entity_id=user.id, details={"sessions_ended": ended})  # fmt: skip


def reactivate(session: Session, *, user_id: int, actor: str, actor_id: int | None) -> None:
    """Let a deactivated user log in again."""
    user = get(session, user_id=user_id)
    if user.is_active:
        return
    user.is_active = True
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="user.reactivated", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_reset(session: Session, *, user_id: int, actor: str, actor_id: int | None, now: datetime) -> str:
    """Return the token of a new one-time reset link for a user; earlier unused links stop working."""
    user = get(session, user_id=user_id)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(id=_digest(token), user_id=user.id, created_by_id=actor_id, created_at=now,
                              expires_at=now + RESET_LINK_VALIDITY))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="user.password_reset_issued",
                 entity_type="staff_user", entity_id=user.id,
                 details={"valid_until": (now + RESET_LINK_VALIDITY).isoformat()})  # fmt: skip
    return token


def reset_password(session: Session, *, token: str, password: str, now: datetime) -> StaffUser:
    """Set a new password through a one-time link; the link then never works again.

    Raises AuthenticationError (code "link_invalid") for an unknown, used or expired link, and
    ValidationError for a too short password (the link stays usable then).
    """
    reset = session.scalar(select(PasswordReset).where(PasswordReset.id == _digest(token)).with_for_update())
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise AuthenticationError(
            Message(
                "auth.reset_link_invalid", "This password link is unknown, used or expired; ask an admin for a new one"
            ),
            code="link_invalid",
        )
    check_password(password)
    user = get(session, user_id=reset.user_id)
    reset.used_at = now
    user.password_hash = hash_password(password)
    user.must_change_password = False
    session.flush()
    clear_failures(session, email=user.email)
    sessions.end_all(session, user_id=user.id, now=now, reason="password_reset")
    audit.record(session, actor=user.email, actor_id=user.id, action="user.password_reset", entity_type="staff_user",
                 entity_id=user.id)  # fmt: skip
    return user


def change_password(session: Session, *, user_id: int, password: str, repeat: str) -> None:
    """Set a user's own new password (the forced change after an admin created the account)."""
    user = get(session, user_id=user_id)
    if password != repeat:
        raise ValidationError(
            Message("auth.passwords_differ", "The two passwords differ; type the same new password twice"),
            field="repeat",
        )
    check_password(password)
    if password_matches(user.password_hash, password):
        raise ValidationError(
            Message("auth.password_unchanged", "The new password is the one you were given; choose a new one"),
            field="password",
        )
    user.password_hash = hash_password(password)
    user.must_change_password = False
    session.flush()
    audit.record(session, actor=user.email, actor_id=user.id, action="user.password_changed",
                 entity_type="staff_user", entity_id=user.id)  # fmt: skip
