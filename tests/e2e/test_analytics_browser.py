"""The analytics pages in Chromium, as a manager and as an analyst, on a warehouse built from the demo data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.e2e.conftest import login, screenshot
from tests.support.browser import settled
from tests.support.warehouse import PASSWORD, demo_warehouse

pytestmark = pytest.mark.browser
PAGES = ["Überblick", "Erfolgsquote", "Prozess", "Engpässe", "Antwortverhalten"]


@pytest.fixture
def warehouse(committed_db):
    """Demo data, a manager and an analyst, and a published warehouse as of today; removed afterwards."""
    with demo_warehouse(committed_db, seed=5, roles=("manager", "analyst"), today=date.today(),
                        now=datetime.now(UTC)) as demo:  # fmt: skip
        yield demo.extracted_on


def scalar(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def open_menu_page(page, title: str) -> None:
    page.locator("[data-testid=stSidebar] a", has_text=title).first.click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
    page.get_by_text("Datenstand:").first.wait_for(timeout=60_000)


def test_analytics_in_browser__manager_sees_every_page_with_the_figures_of_postgres(
    page, streamlit_app, warehouse, committed_db
):
    login(page, streamlit_app, "manager@example.org", PASSWORD)
    for title in PAGES:
        open_menu_page(page, title)
        assert page.locator("[data-testid=stException]").count() == 0, title
    open_menu_page(page, "Überblick")
    first = warehouse - timedelta(days=27)
    placements = scalar(committed_db, "SELECT count(*) FROM placement WHERE placed_on BETWEEN :a AND :b",
                        a=first, b=warehouse)  # fmt: skip
    tile = page.locator("[data-testid=stMetric]", has_text="Vermittlungen (28 Tage)")
    shown = f"{placements:,}".replace(",", ".")
    expect(tile.locator("[data-testid=stMetricValue]")).to_have_text(shown, timeout=60_000)
    open_menu_page(page, "Prozess")
    proposed = scalar(committed_db, "SELECT count(*) FROM inquiry_item")
    funnel = page.locator("[data-testid=stTable]")
    expect(funnel.get_by_text(f"{proposed:,}".replace(",", "."), exact=True).first).to_be_visible(timeout=60_000)
    screenshot(page, "analytics-process-manager")
    open_menu_page(page, "Antwortverhalten")
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=60_000)  # the calibration chart
    settled(page)
    screenshot(page, "analytics-responses-manager")
    open_menu_page(page, "Engpässe")
    deck = page.locator("[data-testid=stDeckGlJsonChart]")
    deck.first.wait_for(timeout=60_000)
    expect(deck.locator("canvas").first).to_be_attached(timeout=60_000)  # the bottleneck map is drawn
    page.wait_for_timeout(1500)  # deck.gl paints the regions after the canvas appears
    screenshot(page, "analytics-bottlenecks-manager")
    assert page.outside_requests == []  # the map asks no tile server


def test_analytics_in_browser__analyst_sees_small_cells_hidden_and_no_patient_pages(
    page, streamlit_app, warehouse, committed_db
):
    login(page, streamlit_app, "analyst@example.org", PASSWORD)
    sidebar = page.locator("[data-testid=stSidebar]")
    assert sidebar.get_by_text("Patient/innen", exact=True).count() == 0  # no access to records
    for title in PAGES:
        open_menu_page(page, title)
        assert page.locator("[data-testid=stException]").count() == 0, title
        expect(page.get_by_text("Werte aus weniger als 5 Patient/innen").first).to_be_visible(timeout=60_000)
    open_menu_page(page, "Engpässe")
    screenshot(page, "analytics-bottlenecks-analyst")
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV herunterladen").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    waiting = [row["waiting_searches"] for row in rows]
    assert "< 5" in waiting, "the demo has regions with fewer than five waiting searches: hidden in the download too"
    assert all(value == "< 5" or int(value) >= 5 for value in waiting)
    # secondary suppression: one hidden region alone would follow from the total of waiting searches
    assert waiting.count("< 5") >= 2
    assert page.outside_requests == []
