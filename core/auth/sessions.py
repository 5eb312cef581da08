"""Server-side login sessions: every rerun of the dashboard checks its session against the account.

Example:
    token = start(session, user=user, now=now)          # after password (and TOTP) are right
    current = check(session, token=token, now=now, timeout=timedelta(minutes=30))  # every rerun

A session ends on logout, idle timeout, deactivation, role change or password reset; ``check`` then
raises AuthenticationError whose ``code`` says why.

So that a login survives a reload and new tabs, the browser gets a second token of the same session in a
signed, HTTP-only cookie. The tab that logged in holds its token in Streamlit's server-side session state
and hands the browser a one-time code valid for HANDOFF (``handoff``); the page posts it to /auth/session
(dashboards/server.py), which calls ``bind_cookie`` and sets the cookie. Neither token nor code ever
appears in a URL. The table stores only SHA-256 digests of all three, and every token dies with its
session, so a cookie stolen after logout, timeout or deactivation is useless.

Example (what /auth/session and a reload do):
    code = handoff(session, token=token, now=now)                      # the tab that logged in
    cookie = bind_cookie(session, code=code, now=now)                  # POST /auth/session
    current = check(session, cookie=cookie, now=now, timeout=timeout)  # a reload or another tab
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.auth.models import LoginSession, StaffUser
from core.auth.service import record_logout
from core.drafts import service as drafts
from core.errors import AuthenticationError

END_REASONS = ("logout", "timeout", "deactivated", "role_changed", "password_reset")
HANDOFF = timedelta(seconds=60)  # the page posts the code right after the login; a minute covers a slow machine


@dataclass(frozen=True)
class SessionUser:
    id: int
    email: str
    name: str
    role: str
    language: str
    must_change_password: bool
    login_id: str = ""  # the login_session row: unsaved form input is kept per login (core.drafts)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, user: StaffUser, now: datetime) -> str:
    """Open a login session for ``user`` and return its token (the only copy: keep it in the server-side tab state)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(id=_digest(token), user_id=user.id, role=user.role, created_at=now, last_seen_at=now))
    session.flush()
    return token


def handoff(session: Session, *, token: str, now: datetime) -> str:
    """Return a one-time code (valid for HANDOFF) that the browser exchanges for this session's cookie."""
    login = session.get(LoginSession, _digest(token))
    if login is None or login.ended_at is not None:
        raise AuthenticationError("This login session does not exist; please sign in", code="logout")
    code = secrets.token_urlsafe(32)
    login.handoff_digest, login.handoff_until = _digest(code), now + HANDOFF
    session.flush()
    return code


def bind_cookie(session: Session, *, code: str, now: datetime) -> str:
    """Exchange a handoff code (once, in time, while the session is open) for the token of the browser's cookie."""
    login = session.scalar(select(LoginSession).where(LoginSession.handoff_digest == _digest(code)))
    if login is None or login.ended_at is not None or login.handoff_until < now:
        raise AuthenticationError("This login code is unknown, used or expired; please sign in", code="logout")
    cookie = secrets.token_urlsafe(32)
    login.cookie_digest, login.handoff_digest, login.handoff_until = _digest(cookie), None, None
    session.flush()
    return cookie


def _find(token: str | None, cookie: str | None):
    if (token is None) == (cookie is None):
        raise ValueError("give either the tab's token or the browser's cookie token")
    if token is not None:
        return LoginSession.id == _digest(token)
    return LoginSession.cookie_digest == _digest(cookie)


def check(
    session: Session, *, token: str | None = None, cookie: str | None = None, now: datetime, timeout: timedelta
) -> SessionUser:
    """Return the session's user as the account is now, and mark the session seen; else end it and raise.

    The session is found by the tab's ``token`` or by the browser's ``cookie`` token. One query reads
    it with its account; an open session is refused when the account was deactivated, its role changed
    since the login, or it was idle longer than ``timeout``.
    """
    row = session.execute(
        select(LoginSession, StaffUser).join(StaffUser, StaffUser.id == LoginSession.user_id)
        .where(_find(token, cookie))
    ).one_or_none()  # fmt: skip
    if row is None:
        raise AuthenticationError("This login session does not exist; please sign in", code="logout")
    login, user = row
    if login.ended_at is not None:
        raise AuthenticationError(f"This login session has ended ({login.end_reason})", code=login.end_reason)
    reason = None
    if not user.is_active:
        reason = "deactivated"
    elif user.role != login.role:
        reason = "role_changed"
    elif now - login.last_seen_at > timeout:
        reason = "timeout"
    if reason is not None:
        login.ended_at, login.end_reason = now, reason
        drafts.discard_login(session, login_ids=[login.id])
        record_logout(session, user_id=user.id, email=user.email, reason=reason)
        raise AuthenticationError(f"This login session has ended ({reason})", code=reason)
    login.last_seen_at = now
    return SessionUser(id=user.id, email=user.email, name=user.display_name, role=user.role.value,
                       language=user.language, must_change_password=user.must_change_password,
                       login_id=login.id)  # fmt: skip


def end(
    session: Session, *, token: str | None = None, cookie: str | None = None, now: datetime, reason: str = "logout"
) -> None:
    """End one session (logout), found by the tab's token or the cookie's; audit it. Unknown or ended: no change."""
    login = session.scalar(select(LoginSession).where(_find(token, cookie)))
    if login is None or login.ended_at is not None:
        return
    login.ended_at, login.end_reason = now, reason
    drafts.discard_login(session, login_ids=[login.id])
    user = session.get(StaffUser, login.user_id)
    record_logout(session, user_id=user.id, email=user.email, reason=reason)


def end_all(session: Session, *, user_id: int, now: datetime, reason: str) -> int:
    """End every open session of a user (deactivation, role change, password reset); return how many."""
    open_ids = select(LoginSession.id).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    drafts.discard_login(session, login_ids=list(session.scalars(open_ids)))
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def open_count(session: Session, *, user_id: int) -> int:
    """Return how many sessions of a user are open (not yet ended)."""
    query = select(func.count()).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    return session.scalar(query)
