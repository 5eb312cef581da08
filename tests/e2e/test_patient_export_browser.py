"""An admin exports one patient (Art. 15) in Chromium, then opens another through the quick search."""

import json
import re
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.auth import service as auth
from tests.e2e.conftest import login, screenshot
from tests.support.matching import searching_patient
from tests.support.postgres import wait_for

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


def exported_patients(engine) -> list[str]:
    with Session(engine) as session:
        rows = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "patient.exported"))
        return list(rows)


def download_export(page) -> tuple[dict, str]:
    """Click the profile tab's download button; return the file's JSON and the URL it came from."""
    rights = page.locator("details", has_text="Betroffenenrechte (nur Administration)")
    if rights.get_attribute("open") is None:  # the expander may still be open from the previous page
        rights.locator("summary").click()
    download_button = page.get_by_role("button", name="JSON herunterladen")
    either = page.get_by_role("button", name=re.compile("JSON herunterladen|Alle Daten als JSON exportieren"))
    either.first.wait_for(timeout=60_000)
    if not download_button.is_visible():  # a page that makes the file in a step before the download
        page.get_by_role("button", name="Alle Daten als JSON exportieren").click()
    with page.expect_download(timeout=60_000) as info:
        download_button.click(timeout=60_000)
    download = info.value
    return json.loads(open(download.path(), encoding="utf-8").read()), download.url


def fetch_without_login(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our local test server
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def open_through_quick_search(page, query: str, link: str, heading: str) -> None:
    quick = page.get_by_placeholder("Name, Referenz oder PLZ")
    quick.fill(query)
    quick.press("Enter")
    page.get_by_role("link", name=link).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)


def test_export__second_patient_page_offers_no_file_of_the_first_and_media_url_dies(page, streamlit_app,
                                                                                     committed_db):  # fmt: skip
    with Session(committed_db) as session:
        auth.create_user(session, email="ada@example.org", role="admin", password=PASSWORD, display_name="Ada Admin")
        first = searching_patient(session, "Exportalpha", first_name="Anna").patient
        second = searching_patient(session, "Exportbeta", first_name="Bert").patient
        session.commit()
        first_id, first_ref, second_id, second_ref = first.id, first.reference, second.id, second.reference

    login(page, f"{streamlit_app}/patient?id={first_id}", "ada@example.org", PASSWORD)
    page.get_by_role("heading", name="Anna Exportalpha").wait_for(timeout=60_000)
    data, first_url = download_export(page)
    assert data["patient"]["reference"] == first_ref
    assert exported_patients(committed_db) == [str(first_id)]

    open_through_quick_search(page, "Exportbeta", f"Exportbeta, Bert · {second_ref}", "Bert Exportbeta")
    # the previous page's elements leave when the rerun ends; after that no trace of the first patient remains
    page.get_by_role("heading", name="Anna Exportalpha").wait_for(state="detached", timeout=30_000)
    page.wait_for_function("() => !document.body.innerHTML.includes('Exportalpha')", timeout=30_000)
    screenshot(page, "patient-export-second")
    assert "Exportalpha" not in page.content()  # no trace of the first patient's export on this page

    data, second_url = download_export(page)
    assert data["patient"]["reference"] == second_ref  # the second page's file holds the second patient
    assert "Exportalpha" not in json.dumps(data, ensure_ascii=False)
    assert exported_patients(committed_db) == [str(first_id), str(second_id)]  # the audit names who was exported

    # each file is made at the click for the logged-in session; Streamlit drops it on the next reruns, so
    # its media URL does not stay open to anyone for the rest of the session
    assert fetch_without_login(first_url) == 404
    open_through_quick_search(page, "Exportalpha", f"Exportalpha, Anna · {first_ref}", "Anna Exportalpha")
    wait_for(lambda: fetch_without_login(second_url) == 404, timeout=30, what="the rerun to drop the file")
    assert page.outside_requests == []
