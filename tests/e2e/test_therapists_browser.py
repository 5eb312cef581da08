"""Staff block a therapist in Chromium, with a reason, and the therapist leaves the list of active therapists."""

from datetime import date

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.therapists import service as therapists
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def add(session, first: str, last: str, plz: str) -> int:
    data = {"first_name": first, "last_name": last, "postcode": plz, "street": f"{last}weg 1",
            "email": f"{first.lower()}@example.org", "procedures": ["VT individual adults", "TP group adults"],
            "languages": "de, en", "phone_hours": "Mo-Do 9-10; Fr 12-13", "accepting_patients": True}  # fmt: skip
    return therapists.create(session, data=data, actor="seed@example.org", today=date.today()).id


def show_active(page, name: str) -> None:
    """On the list page, choose status "aktiv" and type a name into the filter."""
    page.get_by_role("heading", name="Therapeut/innen").wait_for(timeout=30_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Status").click()
    page.get_by_role("option", name="aktiv", exact=True).click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Name", exact=True).press("Enter")


def test_block_in_browser__therapist_leaves_the_active_list(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="mia@example.org", role="staff", password=PASSWORD, display_name="Mia Muster")
        add(session, "Ben", "Berg", "10117")
        add(session, "Ada", "Abel", "10115")
        session.commit()
    login(page, streamlit_app, "mia@example.org", PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Therapeut/innen", exact=True).click()
    show_active(page, "Berg")
    page.get_by_text("Seite 1 von 1 · 1 Therapeut/innen").wait_for(timeout=30_000)
    screenshot(page, "therapists-list")

    page.get_by_label("Schnellsuche").fill("Berg")
    page.get_by_label("Schnellsuche").press("Enter")
    page.get_by_role("link", name="Ben Berg").click()
    page.get_by_role("heading", name="Ben Berg").wait_for(timeout=30_000)
    page.get_by_text("Praxis Ben Berg").wait_for()
    page.get_by_role("cell", name="12:00–13:00").wait_for()  # the phone-hours grid: Friday
    screenshot(page, "therapist-detail")
    page.get_by_role("tab", name="Status").click()
    block_form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Sperren"))
    block_form.get_by_label("Grund").fill("Bittet um eine Pause bei Anfragen")
    block_form.get_by_role("button", name="Sperren").click()
    page.get_by_text("Therapeut/in gesperrt.").wait_for(timeout=30_000)
    page.get_by_text("Grund: Bittet um eine Pause bei Anfragen").wait_for()
    screenshot(page, "therapist-blocked")

    page.get_by_role("link", name="Zur Liste").click()
    show_active(page, "Berg")
    page.get_by_text("Keine Therapeut/innen passen zu diesen Filtern.").wait_for(timeout=30_000)
    page.get_by_label("Name", exact=True).fill("Abel")
    page.get_by_label("Name", exact=True).press("Enter")
    page.get_by_text("Seite 1 von 1 · 1 Therapeut/innen").wait_for(timeout=30_000)
    assert page.outside_requests == []
