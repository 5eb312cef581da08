"""A therapist follows an answer link in Chromium without logging in, accepts one patient, sees the thanks."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from core.communication import links
from core.communication.outbox import inquiry_context
from core.matching.models import AnswerSource, InquiryItem, ItemOutcome
from core.patients.models import PatientStatus, Search
from tests.e2e.conftest import screenshot
from tests.support.matching import searching_patient, sent, therapist

pytestmark = pytest.mark.browser


def test_answer_link_in_browser__accepts_one_patient_without_login(page, streamlit_app, committed_db):
    now = datetime.now(UTC)
    with Session(committed_db) as session:
        doctor = therapist(session, "Kraus")
        inquiry = sent(session, doctor, [searching_patient(session, "Geheim"), searching_patient(session, "Muster")],
                       now=now)  # fmt: skip
        context = inquiry_context(session, inquiry_id=inquiry.id, now=now)  # what the inquiry mail carries
        first_item, second_item = (item.id for item in inquiry.items)
        session.commit()
    url = context["items"][0]["answer_url"]
    token = url.split("token=")[1]
    assert links.read_token(token, secret=_secret(), now=now) == first_item

    page.goto(f"{streamlit_app}/answer?token={token}")
    page.get_by_role("heading", name="Antwort auf unsere Anfrage").wait_for(timeout=60_000)
    page.get_by_text(context["items"][0]["patient_reference"]).first.wait_for()
    assert page.get_by_label("Passwort").count() == 0  # not behind the login
    assert page.get_by_text("Geheim").count() == 0  # pseudonymous summary only
    screenshot(page, "answer-link-form")
    page.get_by_text("Ich biete einen Platz an").click()
    page.get_by_label("Nachricht an uns (freiwillig)").fill("Erstgespräch nächste Woche möglich.")
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text("Vielen Dank! Ihre Antwort ist gespeichert").wait_for(timeout=30_000)
    screenshot(page, "answer-link-thanks")

    with Session(committed_db) as session:
        accepted = session.get(InquiryItem, first_item)
        assert accepted.outcome == ItemOutcome.ACCEPTED
        assert accepted.answer_source == AnswerSource.LINK
        assert accepted.answer_message == "Erstgespräch nächste Woche möglich."
        assert session.get(InquiryItem, second_item).outcome == ItemOutcome.PENDING
        search = session.get(Search, accepted.search_id)
        assert search.patient.status == PatientStatus.IN_THERAPY

    page.goto(f"{streamlit_app}/answer?token={token}")  # the same link again: shows the answer, no form
    page.get_by_text("bereits eine Antwort gespeichert").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Antwort senden").count() == 0
    screenshot(page, "answer-link-reused")
    assert page.outside_requests == []


def _secret() -> str:
    from core.config import get_settings

    return get_settings().resolved_secret_key()
