"""A login survives reloads, new tabs and deep links of the same browser, and ends everywhere (defect 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.auth import accounts, cookies
from core.auth import service as auth
from core.auth.models import LoginSession
from core.patients import service as patients
from tests.e2e.conftest import login, screenshot
from tests.support.browser import login_cookie

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
LOGGED_IN = "Angemeldet als"


def make_user(committed_db, email: str = "sam@example.org", role: str = "staff") -> int:
    with Session(committed_db) as session:
        user = auth.create_user(session, email=email, role=role, password=PASSWORD, display_name="Sam Staff")
        session.commit()
        return user.id


def make_patient(committed_db) -> int:
    data = {
        "first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1990, 3, 1),
        "postcode": "10115", "phone": "030 1234567", "email": "lea@example.org", "insurance_type": "statutory",
        "previous_therapy_end": date(2019, 5, 1),
    }  # fmt: skip
    with Session(committed_db) as session:
        patient = patients.create(session, data=data, actor="t@example.org", today=date.today())
        session.commit()
        return patient.id


def logged_in(page) -> None:
    page.get_by_text(LOGGED_IN).wait_for(timeout=60_000)


def logged_out(page, notice: str) -> None:
    page.get_by_text(notice).wait_for(timeout=60_000)
    page.get_by_role("button", name="Anmelden").wait_for(timeout=30_000)
    page.get_by_text(LOGGED_IN).wait_for(state="hidden", timeout=30_000)


def test_reload_and_new_tab__keep_the_login_and_the_cookie_is_http_only(page, streamlit_app, committed_db):
    make_user(committed_db)
    urls: list[str] = []
    page.context.on("request", lambda request: urls.append(request.url))
    login(page, streamlit_app, "sam@example.org", PASSWORD)
    cookie = login_cookie(page)
    screenshot(page, "session-after-login")
    assert cookie["httpOnly"]
    assert (cookie["sameSite"], cookie["path"]) == ("Strict", "/")
    assert page.evaluate("document.cookie").find(cookies.NAME) == -1  # page scripts cannot read it

    page.reload()
    logged_in(page)
    page.get_by_role("heading", name="Heute").wait_for(timeout=30_000)

    tab = page.context.new_page()
    tab.goto(f"{streamlit_app}/status")
    tab.get_by_role("heading", name="Systemstatus").wait_for(timeout=60_000)
    logged_in(tab)
    screenshot(tab, "session-new-tab")
    # the cookie route gives nothing for a guessed code, nor to a page of another site
    for origin in (streamlit_app, "https://evil.example"):
        answer = page.request.post(f"{streamlit_app}/auth/session", data={"code": "geraten"},
                                   headers={"Origin": origin})  # fmt: skip
        assert answer.status == 403
        assert "set-cookie" not in answer.headers
    value = cookie["value"]
    token = value.rpartition(".")[0]
    assert not [url for url in urls if value in url or token in url or "token=" in url or "code=" in url]


def test_deep_link__a_patient_page_opens_in_a_new_tab_after_logging_in_in_another(page, streamlit_app, committed_db):
    make_user(committed_db)
    patient_id = make_patient(committed_db)
    login(page, streamlit_app, "sam@example.org", PASSWORD)
    login_cookie(page)
    tab = page.context.new_page()
    tab.goto(f"{streamlit_app}/patient?id={patient_id}")
    tab.get_by_role("heading", name="Lea Beispiel").wait_for(timeout=60_000)
    assert tab.url.endswith(f"/patient?id={patient_id}")  # the link's own address, nothing added


def test_logout__ends_the_login_in_every_tab(page, streamlit_app, committed_db):
    make_user(committed_db)
    login(page, streamlit_app, "sam@example.org", PASSWORD)
    login_cookie(page)
    tab = page.context.new_page()
    tab.goto(f"{streamlit_app}/status")
    logged_in(tab)
    stolen = login_cookie(tab)

    tab.get_by_role("button", name="Abmelden").click()
    logged_out(tab, "Sie sind abgemeldet.")
    page.get_by_role("link", name="Systemstatus").click()  # the first tab's next click
    logged_out(page, "Sie sind abgemeldet.")
    page.reload()
    page.get_by_role("button", name="Anmelden").wait_for(timeout=60_000)
    assert not [c for c in page.context.cookies() if c["name"] == cookies.NAME]  # the browser dropped it

    # the cookie copied before the logout is useless in another browser
    thief = page.context.browser.new_context(locale="de-DE")
    thief.add_cookies([stolen])
    other = thief.new_page()
    other.goto(f"{streamlit_app}/status")
    other.get_by_role("button", name="Anmelden").wait_for(timeout=60_000)
    assert not other.get_by_text(LOGGED_IN).is_visible()
    thief.close()


@pytest.mark.parametrize("ending", ["deactivated", "idle"])
def test_deactivation_and_idle_timeout__end_the_login_in_every_tab(page, streamlit_app, committed_db, ending):
    sam = make_user(committed_db)
    login(page, streamlit_app, "sam@example.org", PASSWORD)
    login_cookie(page)
    tab = page.context.new_page()
    tab.goto(f"{streamlit_app}/status")
    logged_in(tab)

    with Session(committed_db) as session:
        if ending == "deactivated":  # what an admin's click does on the Benutzer page
            admin = auth.create_user(session, email="boss@example.org", role="admin", password=PASSWORD)
            accounts.deactivate(session, user_id=sam, actor=admin.email, actor_id=admin.id, now=datetime.now(UTC))
        else:  # 31 minutes without a click pass (the SESSION_TIMEOUT_MINUTES default is 30)
            session.execute(update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
        session.commit()
    notice = "Ihr Konto wurde deaktiviert." if ending == "deactivated" else "nach 30 Minuten ohne Aktivität"

    tab.reload()  # a reload brings the browser's cookie, which now finds the session ended
    logged_out(tab, notice)
    page.get_by_role("link", name="Systemstatus").click()
    page.get_by_role("button", name="Anmelden").wait_for(timeout=60_000)
    page.get_by_text(LOGGED_IN).wait_for(state="hidden", timeout=30_000)
    third = page.context.new_page()
    third.goto(f"{streamlit_app}/patients")
    third.get_by_role("button", name="Anmelden").wait_for(timeout=60_000)
    assert not third.get_by_text(LOGGED_IN).is_visible()
