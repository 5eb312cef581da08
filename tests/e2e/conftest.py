"""Browser tests: Debian's Chromium driven by Playwright, plus a Streamlit server as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.browser import dashboard, settled

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    # WebGL for the pydeck maps from SwiftShader, a CPU renderer (no GPU here); recent Chromium only
    # enables it with the "unsafe" flag, which is fine for our own localhost pages
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page that records every request leaving localhost."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.outside_requests = []

    def watch(request) -> None:
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host not in LOCAL_HOSTS:
            page.outside_requests.append(request.url)

    page.on("request", watch)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def streamlit_app(committed_db, repo_root, tmp_path) -> Iterator[str]:
    """The real app served like make run does (``streamlit run dashboards/server.py``) on the committed test db."""
    with dashboard(repo_root, tmp_path / "streamlit.log") as url:
        yield url


def login(page, url: str, email: str, password: str, *, expect_success: bool = True) -> None:
    """Open ``url``, log in through the real form and, by default, wait until the logged-in page is there.

    A login still open in this browser (its cookie) is dropped first: the login happens as in a fresh browser.
    Admins have to answer a two-factor step (enrolment on their first login): this types the current code
    an authenticator app would show. Waiting matters: a click right after "Anmelden" can land during the
    rerun that follows the login, so this returns once that run is over.
    """
    page.goto(url)
    email_field, logged_in = page.get_by_label("E-Mail"), page.get_by_text("Angemeldet als")
    email_field.or_(logged_in).first.wait_for(timeout=60_000)
    if logged_in.is_visible():  # the browser's login cookie still holds an earlier login: a fresh browser
        page.context.clear_cookies()
        page.goto(url)
    email_field.fill(email, timeout=60_000)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    if expect_success:
        logged_in = page.get_by_text("Angemeldet als")
        code_field = page.get_by_label("Bestätigungscode (6 Ziffern)")
        logged_in.or_(code_field).first.wait_for(timeout=60_000)
        if code_field.is_visible():
            code_field.fill(totp_code(page, email))
            page.get_by_role("button", name="Bestätigen").click()
            logged_in.wait_for(timeout=60_000)
        # The run that follows the login is still drawing (and setting the login cookie): a click or a new
        # address now can land on elements that are about to be replaced, or on a browser without the cookie.
        settled(page)


def totp_code(page, email: str) -> str:
    """The code an authenticator app shows now: from the enrolment key on screen, else the user's stored secret.

    A code works once; if this user's current one was used already, the next one (valid for the login too) is given.
    """
    from datetime import UTC, datetime, timedelta

    import pyotp
    from sqlalchemy.orm import Session

    from core.auth import sealing
    from core.auth import service as auth
    from core.config import get_settings
    from core.db import get_engine

    if page.get_by_text("Zwei-Faktor-Anmeldung einrichten").is_visible():
        return pyotp.TOTP(page.locator("code").first.inner_text().replace(" ", "")).now()
    with Session(get_engine()) as session:
        user = auth.get_by_email(session, email=email)
        secret = sealing.unseal(user.totp_secret_sealed, secret_key=get_settings().resolved_secret_key())
        last_step = user.totp_last_step or 0
    now = datetime.now(UTC)
    if int(now.timestamp()) // 30 <= last_step:
        now += timedelta(seconds=30)
    return pyotp.TOTP(secret).at(now)
