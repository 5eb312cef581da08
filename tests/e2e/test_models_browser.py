"""In Chromium: an admin sees the trained version with its metrics, calibration and effects, and activates it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.config import get_settings
from core.models_registry import service
from tests.e2e.conftest import login, screenshot
from tests.support.learned_world import answered_history

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def test_models_page__shows_a_version_and_activates_it(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="root@example.org", role="admin", password=PASSWORD)
        answered_history(session, rows=1_500, now=datetime.now(UTC))
        service.train(session, now=datetime.now(UTC), settings=get_settings())
        session.commit()

    login(page, f"{streamlit_app}/models", "root@example.org", PASSWORD)
    page.get_by_role("heading", name="Vermittlungsmodell").wait_for(timeout=60_000)
    page.get_by_text("Kalibrierung nach Dezilen (Testdaten)").wait_for(timeout=30_000)
    page.get_by_text("Aktiv: die Vorannahme (prior-v1)").wait_for(timeout=30_000)
    page.get_by_text("Einfluss der Merkmale", exact=True).wait_for(timeout=30_000)
    screenshot(page, "models-page")
    page.get_by_role("button", name="Version aktivieren").click()
    page.get_by_text("learned-v1 ist aktiv.").wait_for(timeout=30_000)
    screenshot(page, "models-page-activated")
    with Session(committed_db) as session:
        assert service.get_active(session).version == 1
