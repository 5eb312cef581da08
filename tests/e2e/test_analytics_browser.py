"""The analytics pages in Chromium, as a manager and as an analyst, on a warehouse built from the demo data."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.config import get_settings
from core.demo.service import seed
from core.warehouse.build import build_warehouse
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
PAGES = ["Überblick", "Erfolgsquote", "Prozess", "Engpässe", "Antwortverhalten"]


@pytest.fixture
def warehouse(committed_db):
    """Demo data, a manager and an analyst, and a published warehouse; removed afterwards."""
    now = datetime.now(UTC)
    with Session(committed_db) as session:
        seed(session, therapists=1200, patients=200, seed=5, today=date.today())
        for role in ("manager", "analyst"):
            auth.create_user(session, email=f"{role}@example.org", role=role, password=PASSWORD)
        session.commit()
    with Session(committed_db) as session:
        summary = build_warehouse(session, now=now)
    yield date.fromisoformat(summary["extracted_on"])
    shutil.rmtree(get_settings().data_dir / "warehouse", ignore_errors=True)


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
    assert tile.locator("[data-testid=stMetricValue]").inner_text().strip() == f"{placements:,}".replace(",", ".")
    open_menu_page(page, "Prozess")
    proposed = scalar(committed_db, "SELECT count(*) FROM inquiry_item")
    funnel = page.locator("[data-testid=stTable]")
    assert funnel.get_by_text(f"{proposed:,}".replace(",", "."), exact=True).first.is_visible()
    screenshot(page, "analytics-process-manager")
    assert page.outside_requests == []


def test_analytics_in_browser__analyst_sees_small_cells_hidden_and_no_patient_pages(
    page, streamlit_app, warehouse, committed_db
):
    login(page, streamlit_app, "analyst@example.org", PASSWORD)
    sidebar = page.locator("[data-testid=stSidebar]")
    assert sidebar.get_by_text("Patient/innen", exact=True).count() == 0  # no access to records
    for title in PAGES:
        open_menu_page(page, title)
        assert page.locator("[data-testid=stException]").count() == 0, title
        assert page.get_by_text("Werte aus weniger als 5 Patient/innen").first.is_visible()
    open_menu_page(page, "Engpässe")
    screenshot(page, "analytics-bottlenecks-analyst")
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV herunterladen").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    waiting = [row["waiting_searches"] for row in rows]
    assert "< 5" in waiting, "the demo has regions with fewer than five waiting searches: hidden in the download too"
    assert all(value == "< 5" or int(value) >= 5 for value in waiting)
    assert page.outside_requests == []
