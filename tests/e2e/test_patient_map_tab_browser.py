"""The map tab of the patient page in Chromium: it runs its nearby search when staff open it, not before."""

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from tests.e2e.conftest import login, screenshot
from tests.support.matching import searching_patient, therapist

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_patient_map_tab__shows_the_therapists_nearby_once_opened(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam")
        therapist(session, "Kartenprobe")
        search = searching_patient(session, "Kartenblick", first_name="Mira")
        session.commit()
        pid = search.patient_id

    login(page, f"{streamlit_app}/patient?id={pid}", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Mira Kartenblick").wait_for(timeout=60_000)
    assert page.get_by_text("Therapeut/in im Umkreis").count() == 0  # not computed while the tab is closed
    page.get_by_role("tab", name="Karte").click()
    page.get_by_text("1 aktive Therapeut/in im Umkreis von 15 km").wait_for(timeout=60_000)
    page.get_by_role("link", name="Kartenprobe").first.wait_for()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1_500)  # let deck.gl draw its first frame
    screenshot(page, "patient-map-tab")
