"""Streamlit AppTest helpers: run the real app script against the committed test database."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import service as auth

APP = "dashboards/app.py"
TIMEOUT = 60  # AppTest's default of 3 s is too short for a first import of pandas and sqlalchemy
PASSWORD = "sehr geheimes passwort"


@pytest.fixture
def make_user(committed_db):
    def make(email: str = "admin@example.org", role: str = "admin", language: str = "de") -> str:
        with Session(committed_db) as session:
            auth.create_user(session, email=email, role=role, password=PASSWORD, language=language)
            session.commit()
        return email

    return make


def start_app(repo_root) -> AppTest:
    at = AppTest.from_file(str(repo_root / APP), default_timeout=TIMEOUT)
    return at.run()


def log_in(at: AppTest, email: str, password: str = PASSWORD) -> AppTest:
    """Log in through the form; answer the two-factor step (admins enrol on their first login) like an app would."""
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    at.button[0].click()  # the form's submit button
    at.run()
    return second_factor(at)


def second_factor(at: AppTest) -> AppTest:
    """If the login asks for a TOTP code, type the current one (computed by pyotp from the user's secret)."""
    pending = at.session_state.get("login_pending", None)
    if pending is None:
        return at
    step = pending["step"]
    at.text_input(key=f"{step}_code").input(pyotp.TOTP(totp_secret(pending)).now())
    at.button(key=f"{step}_submit").click()
    return at.run()


def totp_secret(pending: dict) -> str:
    """The secret behind a pending login: shown during enrolment, else unsealed from the database like the app does."""
    if "secret" in pending:
        return pending["secret"]
    from core.auth import sealing
    from core.auth.models import StaffUser
    from core.config import get_settings
    from core.db import get_engine

    with Session(get_engine()) as session:
        sealed = session.get(StaffUser, pending["user_id"]).totp_secret_sealed
    return sealing.unseal(sealed, secret_key=get_settings().resolved_secret_key())


def texts(at: AppTest) -> str:
    """All visible text of the page (markdown, titles, metrics, alerts), for assertions."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.title] + [e.value for e in at.subheader]
    parts += [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.success]
    parts += [e.value for e in at.warning] + [e.value for e in at.caption]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def open_page(repo_root, file: str, *, user_id: int, email: str, role: str, query: dict | None = None) -> AppTest:
    """Run one page script as a logged-in user (the gate in app.py is tested in test_app_login.py)."""
    at = AppTest.from_file(str(repo_root / APP), default_timeout=TIMEOUT)
    at.session_state["login_token"] = login_session(user_id=user_id, email=email, role=role)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(f"views/{file}")
    return at.run()


def login_session(*, user_id: int, email: str, role: str) -> str:
    """Start a real login session for the user (created, or given ``role``, if need be); return its token."""
    from datetime import UTC, datetime

    from core.auth import sessions
    from core.auth.models import StaffUser
    from core.db import get_engine

    with Session(get_engine()) as session:
        user = session.get(StaffUser, user_id)
        if user is None or user.email != email:
            user = auth.get_by_email(session, email=email) or auth.create_user(
                session, email=email, role=role, password=PASSWORD
            )
        user.role = auth.parse_role(role)
        session.flush()
        token = sessions.start(session, user=user, now=datetime.now(UTC))
        session.commit()
    return token


@pytest.fixture
def staff(committed_db):
    """A committed staff user: (id, email)."""
    with Session(committed_db) as session:
        user = auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        session.commit()
        return user.id, user.email


@pytest.fixture(autouse=True)
def fresh_caches():
    """Every AppTest starts with empty st.cache_data: a frame cached by one test must not leak into the next."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()
