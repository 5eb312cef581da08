"""The map pages in Chromium: the deck draws with WebGL, shows its layers, and nothing leaves localhost.

deck.gl needs WebGL. Headless Chromium without a GPU gets it from SwiftShader (a CPU renderer), which
recent Chromium versions only enable with --enable-unsafe-swiftshader: the shared browser fixture
(tests/e2e/conftest.py) passes those flags for every browser test.
"""

from __future__ import annotations

import io
import random
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.geo.models import Postcode
from core.patients.models import Patient, Search
from core.therapists.models import Therapist
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
PROCEDURES = ["VT", "TP", "AP", "ST"]


@pytest.fixture
def map_data(committed_db):
    """600 therapists and 400 searching patients at PLZ centroids all over Germany (synthetic)."""
    rng = random.Random(4)
    with Session(committed_db) as session:
        postcodes = session.scalars(select(Postcode).order_by(Postcode.plz)).all()
        for i in range(600):
            plz = rng.choice(postcodes)
            procedure = rng.choice(PROCEDURES)
            session.add(Therapist(
                first_name="Therapeutin", last_name=f"Nummer {i:03d}", gender="female", postcode=plz.plz,
                city=plz.place, latitude=plz.latitude + rng.uniform(-0.01, 0.01),
                longitude=plz.longitude + rng.uniform(-0.01, 0.01), location_precision="postcode",
                procedures=[{"procedure": procedure, "setting": "individual", "age_group": "adults"}],
                accepting_patients=rng.choice([True, True, False, None]),
            ))  # fmt: skip
        session.add(Therapist(first_name="Mara", last_name="Mitte", gender="female", postcode="10115", city="Berlin",
                              latitude=52.5321, longitude=13.3847, location_precision="address",
                              procedures=[{"procedure": "VT", "setting": "individual", "age_group": "adults"}],
                              accepting_patients=True))  # fmt: skip
        session.add(Therapist(first_name="Otto", last_name="Ohneort", gender="male", postcode="00000"))
        for i in range(400):
            plz = rng.choice(postcodes)
            patient = Patient(reference=f"P-MAP{i:03d}", first_name="Test", last_name="Person", gender="male",
                              birth_date=date(1980, 1, 1), postcode=plz.plz)  # fmt: skip
            session.add(patient)
            session.flush()
            session.add(Search(patient_id=patient.id, status="active", started_on=date(2026, 9, 1)))
        auth.create_user(session, email="mia@example.org", role="admin", password=PASSWORD, display_name="Mia Muster")
        session.commit()


def canvas_colours(page) -> set[tuple[int, int, int]]:
    """Return the distinct colours the deck's WebGL canvas shows (proof that it drew something)."""
    from PIL import Image

    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    canvas.wait_for(timeout=30_000)
    image = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1_000_000)}


def open_page(page, url: str, title: str) -> None:
    """Log in and open a page from the sidebar (a fresh page load would be a new, logged-out session)."""
    login(page, url, "mia@example.org", PASSWORD)
    page.get_by_text("Angemeldet als").wait_for(timeout=30_000)
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).wait_for(timeout=30_000)


def test_therapist_map__draws_therapists_over_the_outline_offline(page, streamlit_app, map_data):
    open_page(page, streamlit_app, "Therapeut/innen-Karte")
    page.get_by_text("Ohne Standort", exact=True).wait_for(timeout=30_000)
    page.wait_for_timeout(1_500)  # let deck.gl draw its first frame

    colours = canvas_colours(page)
    assert (236, 239, 243) in colours  # the Germany outline's fill
    assert len(colours) > 20  # dots in three colours, anti-aliased edges, the outline's border
    screenshot(page, "therapist-map")
    page.get_by_text("Legende:").scroll_into_view_if_needed()
    screenshot(page, "therapist-map-legend")

    page.get_by_label("PLZ beginnt mit").fill("101")
    page.get_by_label("PLZ beginnt mit").press("Enter")
    page.get_by_text("Passend zu den Filtern", exact=True).wait_for()
    page.wait_for_timeout(2_000)
    box = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.bounding_box()
    tooltip = page.get_by_text("Mara Mitte")
    for step in range(60):  # the view centres on the result once the map has redrawn: hover until it says so
        page.mouse.move(box["x"] + box["width"] / 2 + step % 2, box["y"] + box["height"] / 2)
        if tooltip.is_visible():
            break
        page.wait_for_timeout(1_000)
    tooltip.wait_for(timeout=10_000)  # the hover tooltip
    screenshot(page, "therapist-map-berlin-tooltip")
    assert page.outside_requests == []


def test_supply_demand_map__draws_the_regions_offline(page, streamlit_app, map_data):
    open_page(page, streamlit_app, "Angebot und Nachfrage")
    page.get_by_text("Regionen mit dem knappsten Angebot").wait_for(timeout=30_000)
    page.wait_for_timeout(1_500)

    colours = canvas_colours(page)
    for band in [(225, 228, 232), (241, 105, 19), (166, 54, 3)]:  # no demand, short, no accepting therapist
        assert band in colours
    screenshot(page, "supply-demand-map")
    page.get_by_text("Regionen mit dem knappsten Angebot").scroll_into_view_if_needed()
    screenshot(page, "supply-demand-table")
    assert page.outside_requests == []
