"""Tables speak German: Streamlit's English-only table toolbar ("Download as CSV", "Search") and column menu
("Sort ascending", "Pin column") are not offered."""

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.db import session_scope
from core.patients import service as patients
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_patient_list__a_hovered_table_offers_no_english_toolbar(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam Staff")
        session.commit()
    with session_scope(committed_db) as session:
        patients.create(
            session,
            data={
                "first_name": "Lea",
                "last_name": "Beispiel",
                "gender": "female",
                "birth_date": date(1990, 3, 1),
                "postcode": "10115",
                "email": "lea@example.org",
                "insurance_type": "statutory",
            },
            actor="t@example.org",
            today=date(2026, 3, 2),
        )
    login(page, f"{streamlit_app}/patients", "sam@example.org", PASSWORD)
    table = page.locator("[data-testid='stDataFrame']").first
    expect(table).to_be_visible(timeout=60_000)

    table.hover()
    page.mouse.move(*_centre(table))

    expect(page.get_by_label("Download as CSV")).to_be_hidden()
    expect(page.get_by_label("Search", exact=True)).to_be_hidden()
    expect(page.locator("[data-testid='stElementToolbar']").first).to_be_hidden()
    screenshot(page, "patient-list-table-without-toolbar")

    # the column menu (Sort ascending, Pin column, ...) is English-only too: its "⋮" opens nothing
    box = table.bounding_box()
    header = (box["x"] + box["width"] - 14, box["y"] + 17)  # the last column header's menu icon
    page.mouse.move(*header)
    page.mouse.click(*header)
    page.wait_for_timeout(1_000)  # the menu would open at once; give a loaded machine a moment
    expect(page.get_by_text("Sort ascending")).to_be_hidden()
    expect(page.locator("[data-testid='stDataFrameColumnMenu']")).to_be_hidden()
    name_filter = page.get_by_label("Name oder Referenz")  # the page stays usable: no invisible menu in the way
    name_filter.fill("Beispiel")
    name_filter.press("Enter")
    expect(page.get_by_text("1 Patient/innen")).to_be_visible(timeout=60_000)


def _centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
