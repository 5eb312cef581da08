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


TRACKER = "https://tracker.example.net/pixel.png"  # an outside address: the page must never fetch it


def _therapist_page(browser, page):
    """A second therapist's own browser, recording outside requests into ``page.outside_requests`` too."""
    from urllib.parse import urlsplit

    from tests.e2e.conftest import LOCAL_HOSTS

    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
    other = context.new_page()
    other.on("request", lambda r: None if (urlsplit(r.url).hostname or "") in LOCAL_HOSTS
             or r.url.startswith(("data:", "blob:", "about:")) else page.outside_requests.append(r.url))  # fmt: skip
    return context, other


def _open_form(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Antwort senden").wait_for(timeout=60_000)


def _offer(page, message: str | None = None) -> None:
    page.get_by_text("Ich biete einen Platz an").click()
    if message:
        page.get_by_label("Nachricht an uns (freiwillig)").fill(message)
    page.get_by_role("button", name="Antwort senden").click()


def test_answer_link_in_browser__a_later_offer_is_told_the_truth_and_lands_on_the_conflicts_page(
    browser, page, streamlit_app, committed_db
):
    from core.auth import service as auth
    from core.matching import service as matching
    from tests.e2e.conftest import login

    now = datetime.now(UTC)
    with Session(committed_db) as session:
        lea = searching_patient(session, "Geheim", symptoms=["Schlafstörungen", f"![Bild]({TRACKER})"])
        first = sent(session, therapist(session, "Kraus"), [lea], now=now)
        late = sent(session, therapist(session, "Lorenz"), [lea], now=now)
        mailed = [inquiry_context(session, inquiry_id=i.id, now=now)["items"][0]["answer_url"] for i in (first, late)]
        late_item = late.items[0].id
        auth.create_user(session, email="sam@example.org", role="staff", password="ein langes passwort")
        session.commit()
    urls = [f"{streamlit_app}/answer?token={url.split('token=')[1]}" for url in mailed]
    message = f"Wir hätten ab Januar einen Platz. ![Logo]({TRACKER}) **Bitte melden!**"

    context, lorenz = _therapist_page(browser, page)
    try:
        _open_form(page, urls[0])  # both practices opened the inquiry mail's link
        _open_form(lorenz, urls[1])
        _offer(page, "Gern.")
        page.get_by_text("Vielen Dank! Ihre Antwort ist gespeichert").wait_for(timeout=30_000)
        _offer(lorenz, message)  # the form was open before Kraus answered: this offer comes second
        lorenz.get_by_text("Diese Person hat inzwischen leider schon einen Therapieplatz gefunden").wait_for(
            timeout=30_000
        )
        lorenz.get_by_text("meldet sich wegen Ihres angebotenen Platzes bei Ihnen").wait_for()
        assert lorenz.get_by_text("Ihre Antwort ist gespeichert").count() == 0
        assert lorenz.get_by_text("keine Antwort mehr nötig").count() == 0
        lorenz.get_by_text(message).wait_for()  # the message, literally (no image, no bold)
        screenshot(lorenz, "answer-link-late-offer")
    finally:
        context.close()

    with Session(committed_db) as session:
        [conflict] = matching.list_conflicts(session)
        assert (conflict["item_id"], conflict["answer_message"]) == (late_item, message)

    login(page, f"{streamlit_app}/conflicts", "sam@example.org", "ein langes passwort")
    page.get_by_role("heading", name="Konflikte").wait_for(timeout=60_000)
    page.get_by_text("Lorenz hat").wait_for(timeout=30_000)
    page.get_by_text(f"Nachricht der Praxis: {message}").wait_for()
    screenshot(page, "conflicts-late-offer")
    assert page.locator("img[src*='tracker']").count() == 0
    assert page.outside_requests == []
