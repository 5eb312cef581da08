"""Staff import a 116117 search answer in Chromium: upload, review the preview, commit, see it in the history."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.directory import service as directory
from core.directory.reading import Source
from core.therapists import service as therapists
from core.therapists.models import Therapist
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "directory"


def test_import_in_browser__preview_commit_and_the_change_in_the_therapist_history(page, streamlit_app, committed_db,
                                                                                   tmp_path):  # fmt: skip
    with Session(committed_db) as session:
        auth.create_user(session, email="mia@example.org", role="staff", password=PASSWORD, display_name="Mia Muster")
        directory.commit(session, sources=[Source.from_path(FIXTURES / "new_format.json")], actor="seed@example.org",
                         today=date(2026, 11, 1))  # fmt: skip
        session.commit()
        anna_id = session.scalars(select(Therapist.id).where(Therapist.external_id == "SYN-1001")).one()
    answer = json.loads((FIXTURES / "new_format.json").read_text())
    answer["arztPraxisDatas"][0]["tel"] = "030 9876543"  # the practice has a new number
    upload = tmp_path / "suche-berlin.json"
    upload.write_text(json.dumps(answer, ensure_ascii=False))

    login(page, streamlit_app, "mia@example.org", PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Verzeichnisimport", exact=True).click()
    page.get_by_role("heading", name="Verzeichnisimport").wait_for(timeout=30_000)
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Vorschau").click(timeout=30_000)
    changed = page.get_by_test_id("stExpander").filter(has_text="Geändert (Feld für Feld) (1)")
    changed.wait_for(timeout=30_000)
    changed.get_by_text("+49309876543").wait_for(state="attached")  # field by field, old and new
    page.get_by_test_id("stMetric").filter(has_text="Unverändert").get_by_text("1", exact=True).wait_for()
    screenshot(page, "directory-import-preview")

    page.get_by_role("button", name="Import übernehmen").click()
    page.get_by_text("Import #2 übernommen: 0 neu, 1 geändert, 1 unverändert.").wait_for(timeout=60_000)
    screenshot(page, "directory-import-committed")

    page.goto(f"{streamlit_app}/therapist?id={anna_id}")
    page.get_by_role("heading", name="Dr. Anna Beispiel").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Verlauf").click()
    history = page.get_by_test_id("stTabs")
    history.get_by_text("Verzeichnisimport #2").first.wait_for(state="attached", timeout=30_000)
    screenshot(page, "directory-import-therapist-history")


def test_review_in_browser__staff_merge_an_uncertain_match(page, streamlit_app, committed_db):
    with Session(committed_db) as session:
        auth.create_user(session, email="mia@example.org", role="staff", password=PASSWORD, display_name="Mia Muster")
        therapists.create(session, data={
            "first_name": "Anna", "last_name": "Beispiel", "gender": "female", "street": "Ganz andere Straße 99",
            "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
        }, actor="seed@example.org", today=date(2026, 11, 1))  # fmt: skip
        directory.commit(session, sources=[Source.from_path(FIXTURES / "new_format.json")], actor="seed@example.org",
                         today=date(2026, 11, 1))  # fmt: skip
        session.commit()

    login(page, streamlit_app, "mia@example.org", PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Verzeichnisimport", exact=True).click()
    page.get_by_role("heading", name="Unsichere Zuordnungen").wait_for(timeout=30_000)
    page.get_by_text("abweichend: Straße").wait_for(timeout=30_000)
    comparison = page.get_by_test_id("stTable")
    comparison.get_by_text("Ganz andere Straße 99").wait_for(timeout=30_000)  # what we hold, beside the entry
    comparison.get_by_text("Musterstraße 1").wait_for()
    page.get_by_test_id("stFileUploaderDropzone").wait_for()  # the page has finished drawing
    screenshot(page, "directory-review-open")
    page.get_by_role("button", name="Derselbe Therapeut (zusammenführen)").click()
    page.get_by_text("Zusammengeführt: Dr. Anna Beispiel").wait_for(timeout=30_000)  # with the directory's title
    page.get_by_text("Keine offenen Zuordnungen").wait_for(timeout=30_000)
    screenshot(page, "directory-review-merged")
