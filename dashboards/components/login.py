"""The login gate: password, two-factor code (enrolment for admins), forced password change, logout.

The tab that logged in holds a random token in Streamlit's server-side session state; the browser holds
a second token of the same session in a signed, HTTP-only cookie (set by POST /auth/session in
dashboards/server.py), so a reload, a new tab or a deep link stays logged in. Every rerun checks the
token against the login_session table and the account (core.auth.sessions), so a logout, deactivation,
role change or idle timeout takes effect in every tab on its next click. Tokens never appear in a URL.
app.py calls current_user() once per rerun before any page runs; pages call require_user().
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
import streamlit as st

from core.auth import accounts, cookies, sessions, totp
from core.auth import service as auth
from core.config import get_settings
from core.db import session_scope
from core.errors import AuthenticationError, ValidationError
from dashboards import data
from dashboards.i18n import language_switch, say, t

TOKEN = "login_token"  # noqa: S105 - the state key of the tab's session token
PENDING = "login_pending"  # password right, second step (TOTP code or enrolment) still open
HANDOFF = "login_handoff"  # the one-time code this page posts to /auth/session to get the login cookie
DEAD_COOKIE = "login_dead_cookie"  # a cookie this tab found ended: the browser keeps sending it until cleared
CLEAR_COOKIE = "login_clear_cookie"  # ask the browser to drop its login cookie (POST /auth/logout)
# Posted in the request body (never a URL); the answer sets or clears the HTTP-only cookie.
_POST_SCRIPT = """<script>
fetch(new URL({path}, window.location.origin), {{method: "POST", credentials: "same-origin",
  headers: {{"Content-Type": "application/json"}}, body: {body}}});
</script>"""


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str
    login_id: str | None = None  # the login_session row; unsaved form input is kept per login (form_drafts)


def _now() -> datetime:
    return datetime.now(UTC)


def _lockout() -> timedelta:
    return timedelta(minutes=get_settings().login_lockout_minutes)


def _cookie_value() -> str | None:
    value = st.context.cookies.get(cookies.NAME)
    return value if isinstance(value, str) else None  # AppTest runs have no browser and no real cookies


def _cookie_token() -> str | None:
    """The session token in the browser's login cookie, unless missing, forged or already found ended here."""
    value = _cookie_value()
    if value is None or value == st.session_state.get(DEAD_COOKIE):
        return None
    return cookies.unsign(value, secret_key=get_settings().resolved_secret_key())


def _post(path: str, body: dict) -> None:
    """Let the browser post ``body`` to one of our own routes (the cookie can only be set by an HTTP answer)."""
    script = _POST_SCRIPT.format(path=json.dumps(path), body=json.dumps(json.dumps(body)))
    st.html(script, unsafe_allow_javascript=True, width="content")


def current_user() -> CurrentUser | None:
    """Check this tab's login (else the browser's login cookie) against the database; return its user or None.

    An ended session (timeout, deactivation, role change, reset) leaves a notice for the login page and
    has the browser drop its cookie. A user who must choose a new password sees only that form.
    """
    token = st.session_state.get(TOKEN)
    cookie = None if token is not None else _cookie_token()
    if token is None and cookie is None:
        st.session_state.pop("user", None)
        _clear_cookie_if_asked()
        return None
    settings = get_settings()
    with session_scope(data.engine()) as session:
        try:
            found = sessions.check(session, token=token, cookie=cookie, now=_now(),
                                   timeout=timedelta(minutes=settings.session_timeout_minutes))  # fmt: skip
        except AuthenticationError as exc:
            found, ended = None, exc.code
    if found is None:
        st.session_state.pop(TOKEN, None)
        st.session_state.pop("user", None)
        _forget_cookie()
        if ended == "timeout":
            st.session_state["login_notice"] = t("login.timeout", minutes=settings.session_timeout_minutes)
        else:
            st.session_state["login_notice"] = t(f"login.ended.{ended}")
        _clear_cookie_if_asked()
        return None
    user = CurrentUser(id=found.id, email=found.email, name=found.name, role=found.role, login_id=found.login_id)
    st.session_state["user"] = user
    handoff = st.session_state.pop(HANDOFF, None)
    if handoff is not None:
        _post("/auth/session", {"code": handoff})
    if found.must_change_password:
        _change_password_form(user)
        st.stop()
    return user


def _forget_cookie() -> None:
    """This tab no longer trusts the browser's cookie (its session ended); the browser is asked to drop it."""
    value = _cookie_value()
    if value is not None:
        st.session_state[DEAD_COOKIE] = value
        st.session_state[CLEAR_COOKIE] = True


def _clear_cookie_if_asked() -> None:
    if st.session_state.pop(CLEAR_COOKIE, False):
        _post("/auth/logout", {})


def logout(*, reason: str = "logout") -> None:
    """End this login in every tab: the session in the database, and the browser's cookie."""
    token = st.session_state.pop(TOKEN, None)
    cookie = None if token is not None else _cookie_token()
    st.session_state.pop("user", None)
    st.session_state.pop(HANDOFF, None)
    _forget_cookie()
    st.session_state[CLEAR_COOKIE] = True  # also a cookie this tab never saw (set after its websocket opened)
    if token is not None or cookie is not None:
        with session_scope(data.engine()) as session:
            sessions.end(session, token=token, cookie=cookie, now=_now(), reason=reason)


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
    user = st.session_state.get("user")
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
        st.error(say(exc))
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
    token = sessions.start(session, user=user, now=_now())
    st.session_state[TOKEN] = token
    st.session_state[HANDOFF] = sessions.handoff(session, token=token, now=_now())
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
            st.error(say(exc))
        return
    st.rerun()
