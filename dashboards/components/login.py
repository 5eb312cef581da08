"""The login gate: a form, lockout messages, session timeout, logout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.auth import service as auth
from core.config import get_settings
from core.db import session_scope
from core.errors import AuthenticationError
from dashboards import data
from dashboards.i18n import language_switch, t


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str


def current_user() -> CurrentUser | None:
    """Return the logged-in user, or None; log out a session idle for longer than the timeout."""
    user = st.session_state.get("user")
    if user is None:
        return None
    settings = get_settings()
    now = datetime.now(UTC)
    last_seen = st.session_state.get("last_seen", now)
    if now - last_seen > timedelta(minutes=settings.session_timeout_minutes):
        logout(reason="timeout")
        st.session_state["login_notice"] = t("login.timeout", minutes=settings.session_timeout_minutes)
        return None
    st.session_state["last_seen"] = now
    return user


def logout(*, reason: str = "user") -> None:
    user = st.session_state.pop("user", None)
    st.session_state.pop("last_seen", None)
    if user is not None:
        with session_scope(data.engine()) as session:
            auth.record_logout(session, user_id=user.id, email=user.email, reason=reason)


def logout_by_user() -> None:
    """Button callback: log out and say so on the login page."""
    logout(reason="user")
    st.session_state["login_notice"] = t("login.logged_out")


def show(key: str = "login") -> None:
    """Render the login page; on success store the user and rerun into the app."""
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        st.title(t("app.title"))
        st.caption(t("app.subtitle"))
        notice = st.session_state.pop("login_notice", None)
        if notice:
            st.info(notice)
        st.subheader(t("login.title"))
        st.write(t("login.intro"))
        with st.form(key=f"{key}_form", enter_to_submit=True):
            email = st.text_input(t("login.email"), key=f"{key}_email", autocomplete="username")
            password = st.text_input(t("login.password"), type="password", key=f"{key}_password",
                                     autocomplete="current-password")  # fmt: skip
            submitted = st.form_submit_button(t("login.submit"), type="primary", width="stretch")
        if submitted:
            _attempt(email, password)
        language_switch(key=f"{key}_language")


def require_user() -> CurrentUser:
    """Return the logged-in user or show the login form and stop: every page starts with this."""
    user = current_user()
    if user is None:
        show(key="login")
        st.stop()
    return user


def page() -> None:
    """The login page as a navigation page."""
    show(key="login")


def _attempt(email: str, password: str) -> None:
    if not email.strip() or not password:
        st.error(t("login.missing"))
        return
    settings = get_settings()
    try:
        with session_scope(data.engine()) as session:
            try:
                user = auth.authenticate(
                    session, email=email, password=password, now=datetime.now(UTC),
                    max_failures=settings.login_max_failures,
                    lockout=timedelta(minutes=settings.login_lockout_minutes),
                )  # fmt: skip
            except AuthenticationError as exc:
                # keep the failure count and audit row, then report
                session.commit()
                raise exc
            current = CurrentUser(id=user.id, email=user.email, name=user.display_name, role=user.role.value)
    except AuthenticationError as exc:
        if exc.code == "locked":
            st.error(t("login.locked", minutes=exc.minutes))
        else:
            st.error(t("login.invalid"))
        return
    st.session_state["user"] = current
    st.session_state["last_seen"] = datetime.now(UTC)
    st.rerun()
