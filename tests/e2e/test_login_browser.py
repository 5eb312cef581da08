"""A staff member logs in through the real login form in Chromium and sees the system status."""

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_login_in_browser__reaches_the_status_page(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="mia@example.org", role="admin", password=PASSWORD, display_name="Mia Muster")
        session.commit()

    login(page, streamlit_app, "mia@example.org", "falsches passwort", expect_success=False)
    page.get_by_text("E-Mail oder Passwort ist falsch.").wait_for(timeout=30_000)

    login(page, f"{streamlit_app}/status", "mia@example.org", PASSWORD)  # a deep link survives the login
    page.get_by_role("heading", name="Systemstatus").wait_for(timeout=30_000)
    page.get_by_text("erreichbar", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Angemeldet als").wait_for()  # the sidebar menu is there, not a bare page
    page.get_by_role("heading", name="Hintergrundjobs").wait_for()
    assert page.get_by_text("Migrationsstand").is_visible()
    page.locator("table").get_by_text("heartbeat", exact=True).wait_for()
    screenshot(page, "status-page")
    assert page.outside_requests == []
