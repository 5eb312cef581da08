"""In Chromium: run matching, approve a proposal, record an acceptance; the patient is placed, other items withdrawn."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.db import session_scope
from core.demo import seed
from core.matching import service as matching
from core.matching.models import InquiryItem, ItemOutcome
from core.patients.models import Patient, PatientStatus, Search, SearchStatus
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
SHOWN_PER_PAGE = 20  # the proposals page shows 20 inquiries per page


def proposal_with_other_open_items(session) -> tuple[dict, dict]:
    """Pick a shown proposal whose patient also waits for answers elsewhere (so withdrawal is visible)."""
    for proposal in matching.list_proposals(session)[:SHOWN_PER_PAGE]:
        for item in proposal["items"]:
            others = session.scalars(
                select(InquiryItem).where(
                    InquiryItem.search_id == item["search_id"],
                    InquiryItem.id != item["item_id"],
                    InquiryItem.outcome == ItemOutcome.PENDING,
                )
            ).all()
            if others:
                return proposal, item
    raise AssertionError("the demo history should leave a proposed patient with open inquiries elsewhere")


def test_matching_in_browser__approve_accept_place_and_withdraw(page, streamlit_app, committed_db):
    with session_scope(committed_db) as session:
        seed(session, therapists=400, patients=120, seed=5, today=date.today())
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)

    login(page, f"{streamlit_app}/proposals", "sam@example.org", PASSWORD)
    page.get_by_role("button", name="Matching jetzt ausführen").click()
    page.get_by_text("Matching fertig:").wait_for(timeout=60_000)
    with Session(committed_db) as session:
        proposal, item = proposal_with_other_open_items(session)
    page.locator(f".st-key-approve_{proposal['inquiry_id']} button").click()
    page.get_by_text(f"Anfrage {proposal['reference']} freigegeben.").wait_for(timeout=30_000)
    screenshot(page, "matching-proposals")

    page.get_by_role("link", name="Antworten").click()
    page.get_by_role("heading", name="Antworten erfassen").wait_for(timeout=30_000)
    page.locator(".st-key-answers_inquiry").get_by_role("combobox").click()
    page.keyboard.type(proposal["reference"])  # the list is long: type to filter, as staff would
    page.get_by_role("option").filter(has_text=proposal["reference"]).click()
    form = page.locator("[data-testid='stForm']").filter(has_text=item["patient_reference"])
    form.get_by_role("button", name="Antwort speichern").click()  # the first answer offered is "Zusage"
    page.get_by_text("Vermittelt!").wait_for(timeout=30_000)
    screenshot(page, "matching-answer-placed")

    with Session(committed_db) as session:
        search = session.get(Search, item["search_id"])
        assert search.status == SearchStatus.SUCCESSFUL
        assert session.get(Patient, search.patient_id).status == PatientStatus.IN_THERAPY
        others = session.scalars(
            select(InquiryItem).where(InquiryItem.search_id == search.id, InquiryItem.id != item["item_id"])
        ).all()
        assert others
        assert ItemOutcome.PENDING not in {o.outcome for o in others}
        assert ItemOutcome.WITHDRAWN in {o.outcome for o in others}
    assert page.outside_requests == []
