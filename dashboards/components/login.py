"""The login gate: password, two-factor code (enrolment for admins), forced password change, logout.

The browser session holds only a random token; every rerun checks it against the login_session table and
the account (core.auth.sessions), so a deactivation or role change takes effect on the user's next click.
app.py calls current_user() once per rerun before any page runs; pages call require_user().
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
import streamlit as st

from core.auth import accounts, sessions, totp
from core.auth import service as auth
from core.config import get_settings
from core.db import session_scope
from core.errors import AuthenticationError, ValidationError
from dashboards import data
from dashboards.i18n import language_switch, t

TOKEN = "login_token"  # noqa: S105 - the state key of the session token (later also a signed cookie)
PENDING = "login_pending"  # password right, second step (TOTP code or enrolment) still open


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str


def _now() -> datetime:
    return datetime.now(UTC)


def _lockout() -> timedelta:
    return timedelta(minutes=get_settings().login_lockout_minutes)


def current_user() -> CurrentUser | None:
    """Check this browser session's login against the database; return its user or None.

    An ended session (timeout, deactivation, role change, reset) leaves a notice for the login page. A
    user who must choose a new password sees only that form.
    """
    token = st.session_state.get(TOKEN)
    if token is None:
        st.session_state.pop("user", None)
        return None
    settings = get_settings()
    with session_scope(data.engine()) as session:
        try:
            found = sessions.check(session, token=token, now=_now(),
                                   timeout=timedelta(minutes=settings.session_timeout_minutes))  # fmt: skip
        except AuthenticationError as exc:
            found, ended = None, exc.code
    if found is None:
        st.session_state.pop(TOKEN, None)
        st.session_state.pop("user", None)
        if ended == "timeout":
            st.session_state["login_notice"] = t("login.timeout", minutes=settings.session_timeout_minutes)
        else:
            st.session_state["login_notice"] = t(f"login.ended.{ended}")
        return None
    user = CurrentUser(id=found.id, email=found.email, name=found.name, role=found.role)
    st.session_state["user"] = user
    if found.must_change_password:
        _change_password_form(user)
        st.stop()
    return user


def logout(*, reason: str = "logout") -> None:
    token = st.session_state.pop(TOKEN, None)
    st.session_state.pop("user", None)
    if token is not None:
        with session_scope(data.engine()) as session:
            sessions.end(session, token=token, now=_now(), reason=reason)


def logout_by_user() -> None:
    """Button callback: log out and say so on the login page."""
    logout(reason="logout")
    st.session_state["login_notice"] = t("login.logged_out")


def show(key: str = "login") -> None:
    """Render the login page (or its second step); on success start a session and rerun into the app."""
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        st.title(t("app.title"))
        st.caption(t("app.subtitle"))
        notice = st.session_state.pop("login_notice", None)
        if notice:
            st.info(notice)
        pending = st.session_state.get(PENDING)
        if pending is not None and pending["step"] == "totp":
            _totp_step(pending)
        elif pending is not None and pending["step"] == "enrol":
            _enrol_step(pending)
        else:
            _password_step(key)
        language_switch(key=f"{key}_language")


def require_user() -> CurrentUser:
    """Return the logged-in user or show the login form and stop: every page starts with this.

    The database check already ran in this rerun (app.py calls current_user() before any page).
    """
    user = st.session_state.get("user") if st.session_state.get(TOKEN) else None
    if user is None:
        show(key="login")
        st.stop()
    return user


def page() -> None:
    """The login page as a navigation page."""
    show(key="login")


def _password_step(key: str) -> None:
    st.subheader(t("login.title"))
    st.write(t("login.intro"))
    with st.form(key=f"{key}_form", enter_to_submit=True):
        email = st.text_input(t("login.email"), key=f"{key}_email", autocomplete="username")
        password = st.text_input(t("login.password"), type="password", key=f"{key}_password",
                                 autocomplete="current-password")  # fmt: skip
        submitted = st.form_submit_button(t("login.submit"), type="primary", width="stretch")
    if submitted:
        _attempt(email, password)


def _show_auth_error(exc: AuthenticationError) -> None:
    if exc.code == "locked":
        st.error(t("login.locked", minutes=exc.minutes))
    elif exc.code == "totp_wrong":
        st.error(t("login.totp.wrong"))
    else:
        st.error(t("login.invalid"))


def _attempt(email: str, password: str) -> None:
    if not email.strip() or not password:
        st.error(t("login.missing"))
        return
    settings = get_settings()
    try:
        with session_scope(data.engine()) as session:
            try:
                user = auth.authenticate(session, email=email, password=password, now=_now(),
                                         max_failures=settings.login_max_failures, lockout=_lockout())  # fmt: skip
            except AuthenticationError:
                session.commit()  # keep the failure count and audit row, then report
                raise
            if totp.enrolled(user):
                st.session_state[PENDING] = {"step": "totp", "user_id": user.id, "email": user.email}
            elif totp.required(user):
                st.session_state[PENDING] = {"step": "enrol", "user_id": user.id, "email": user.email,
                                             "secret": totp.new_secret()}  # fmt: skip
            else:
                _start(session, user)
    except AuthenticationError as exc:
        _show_auth_error(exc)
        return
    st.rerun()


def _start(session, user) -> None:
    st.session_state[TOKEN] = sessions.start(session, user=user, now=_now())
    st.session_state.pop(PENDING, None)


def _cancel() -> None:
    st.session_state.pop(PENDING, None)


def _code_form(key: str, submit: str) -> tuple[str, bool]:
    with st.form(key=f"{key}_form", enter_to_submit=True):
        code = st.text_input(t("login.totp.code"), key=f"{key}_code", max_chars=7, autocomplete="one-time-code")
        submitted = st.form_submit_button(t(submit), type="primary", width="stretch", key=f"{key}_submit")
    st.button(t("login.totp.cancel"), key=f"{key}_cancel", on_click=_cancel)
    return code, submitted


def _totp_step(pending: dict) -> None:
    st.subheader(t("login.totp.title"))
    st.write(t("login.totp.intro"))
    code, submitted = _code_form("totp", "login.totp.submit")
    if not submitted:
        return
    settings = get_settings()
    try:
        with session_scope(data.engine()) as session:
            user = accounts.get(session, user_id=pending["user_id"])
            try:
                totp.verify(session, user=user, code=code, now=_now(), secret_key=settings.resolved_secret_key(),
                            max_failures=settings.login_max_failures, lockout=_lockout())  # fmt: skip
            except AuthenticationError:
                session.commit()  # the wrong code counts as a failed login
                raise
            _start(session, user)
    except AuthenticationError as exc:
        if exc.code == "locked":
            st.session_state.pop(PENDING, None)
        _show_auth_error(exc)
        return
    st.rerun()


def _enrol_step(pending: dict) -> None:
    st.subheader(t("login.enrol.title"))
    st.write(t("login.enrol.intro"))
    secret = pending["secret"]
    uri = totp.provisioning_uri(secret, email=pending["email"])
    png = io.BytesIO()
    segno.make(uri, error="m").save(png, kind="png", scale=5, border=2)
    st.image(png.getvalue(), width=220)
    st.caption(t("login.enrol.secret"))
    st.code(" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), language=None)
    code, submitted = _code_form("enrol", "login.totp.submit")
    if not submitted:
        return
    try:
        with session_scope(data.engine()) as session:
            user = accounts.get(session, user_id=pending["user_id"])
            totp.enrol(session, user=user, secret=secret, code=code, now=_now(),
                       secret_key=get_settings().resolved_secret_key())  # fmt: skip
            _start(session, user)
    except ValidationError:
        st.error(t("login.enrol.wrong"))
        return
    st.rerun()


def _change_password_form(user: CurrentUser) -> None:
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        st.title(t("login.change.title"))
        st.write(t("login.change.intro"))
        with st.form(key="change_password_form"):
            password = st.text_input(t("login.change.password"), type="password", key="change_password",
                                     autocomplete="new-password")  # fmt: skip
            repeat = st.text_input(t("login.change.repeat"), type="password", key="change_repeat",
                                   autocomplete="new-password")  # fmt: skip
            submitted = st.form_submit_button(t("login.change.submit"), type="primary", width="stretch")
        st.button(t("session.logout"), key="logout", icon=":material/logout:", on_click=logout_by_user)
    if not submitted:
        return
    try:
        with session_scope(data.engine()) as session:
            accounts.change_password(session, user_id=user.id, password=password, repeat=repeat)
    except ValidationError as exc:
        with middle:
            st.error(str(exc))
        return
    st.rerun()
