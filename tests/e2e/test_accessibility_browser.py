"""Accessibility in Chromium: axe-core on every page, the patient form by keyboard only, the public pages on a phone.

axe-core comes bundled with axe-playwright-python (nothing is downloaded). A page passes when axe finds no
violation of impact "serious" or "critical". One stack serves the whole module: starting Streamlit is the
expensive part, and the pages only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session

from core import clock
from core.auth import accounts
from core.auth import service as auth
from core.communication import inbound, inbound_store
from core.communication.outbox import inquiry_context
from core.config import get_settings
from core.patients.models import Patient, PatientStatus
from core.therapists.models import TherapistStatus
from dashboards.navigation import PAGES
from tests.conftest import truncate_all
from tests.e2e.conftest import login, screenshot
from tests.support.browser import dashboard, settled, violations
from tests.support.matching import propose, searching_patient, sent, therapist

pytestmark = pytest.mark.browser
PASSWORD = "sehr geheimes passwort"
PUBLIC_VIEWPORTS = [(390, 844), (1400, 900)]  # a phone held upright, a laptop


@pytest.fixture(scope="module")
def stack(engine, repo_root, tmp_path_factory) -> Iterator[dict]:
    """Committed sample data (every tile of "Heute" non-empty) and one Streamlit server for the module."""
    truncate_all(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        admin = auth.create_user(session, email="ada@example.org", role="admin", password=PASSWORD)
        searches = [searching_patient(session, "Beispiel"), searching_patient(session, "Muster", first_name="Tom")]
        inquiry = sent(session, therapist(session, "Kraus", phone="+49 30 1234567"), searches, now=now)
        propose(session, therapist(session, "Lorenz"), [searching_patient(session, "Vorschlag")])
        session.add(Patient(reference="P-A11Y01", status=PatientStatus.NEW, first_name="Lea", last_name="Neu",
                            gender="female", birth_date=date(1990, 1, 1), postcode="10115",
                            insurance_type="statutory", weekly_hours=25))  # fmt: skip
        therapist(session, "Urlaub", status=TherapistStatus.BLOCKED, status_reason="Urlaub",
                  status_until=clock.today() + timedelta(days=3))  # fmt: skip
        reply = EmailMessage()
        reply["From"], reply["To"] = "praxis.kraus@example.org", get_settings().mail_from
        reply["Subject"], reply["Message-ID"] = f"AW: Anfrage {inquiry.reference}", "<a11y-reply@example.org>"
        reply.set_content("Wir melden uns nächste Woche.")
        inbound_store.file_mail(session, parsed=inbound.parse(bytes(reply)), now=now)
        answer_url = inquiry_context(session, inquiry_id=inquiry.id, now=now)["items"][0]["answer_url"]
        reset_token = accounts.issue_password_reset(session, user_id=admin.id, actor="test", actor_id=None, now=now)
        thread = {"inquiry_id": inquiry.id, "practice_id": inquiry.practice_id}
        session.commit()
    try:
        with dashboard(repo_root, tmp_path_factory.mktemp("a11y") / "streamlit.log", script="dashboards/app.py") as url:
            yield {"url": url, "answer_token": answer_url.split("token=")[1], "reset_token": reset_token, **thread}
    finally:
        truncate_all(engine)


def test_axe__every_page_for_an_admin_has_no_serious_violations(page, stack):
    page.goto(stack["url"])
    page.get_by_label("Passwort").wait_for(timeout=60_000)
    settled(page)
    found = violations(page)  # the login form
    login(page, stack["url"], "ada@example.org", PASSWORD)
    settled(page)
    found += violations(page)  # the start page, "Heute"
    screenshot(page, "a11y-heute")
    for spec in PAGES:
        if spec.hidden or spec.file == "today.py":  # detail pages below; "Heute" is the start page, at "/"
            continue
        page.locator(f"[data-testid=stSidebar] a[href$='{spec.url_path}']").first.click(timeout=90_000)
        page.wait_for_url(f"**/{spec.url_path}*", timeout=30_000)
        settled(page)
        found += violations(page)
        if spec.file == "board.py":
            screenshot(page, "board")
    # the detail pages, reached by their links as staff do
    page.locator("[data-testid=stSidebar] a", has_text="Heute").click()
    settled(page)
    page.get_by_role("link", name="P-A11Y01", exact=False).click()
    page.wait_for_url("**/patient?id=*")
    settled(page)
    found += violations(page)
    screenshot(page, "patient-path")
    page.locator("[data-testid=stSidebar] a", has_text="Heute").click()
    settled(page)
    page.get_by_role("link", name="Urlaub", exact=False).click()
    page.wait_for_url("**/therapist?id=*")
    settled(page)
    found += violations(page)
    assert found == [], "\n".join(found)


def test_axe__inquiry_thread_and_practice_pages_have_no_serious_violations(page, browser, stack):
    login(page, f"{stack['url']}/inquiry_thread?id={stack['inquiry_id']}", "ada@example.org", PASSWORD)
    page.get_by_text("Angemeldet als").wait_for(timeout=60_000)
    page.get_by_text("Wir melden uns nächste Woche.").wait_for(timeout=60_000)  # the practice's reply
    settled(page)
    found = violations(page)
    screenshot(page, "a11y-inquiry-thread")
    # a deep link in a second browser (this module's server has no login cookie route: dashboards/app.py)
    context = browser.new_context()
    other = context.new_page()
    login(other, f"{stack['url']}/practice?id={stack['practice_id']}", "sam@example.org", PASSWORD)
    other.get_by_role("heading", name="Praxis Kraus").wait_for(timeout=60_000)
    settled(other)
    found += violations(other)
    screenshot(other, "a11y-practice")
    context.close()
    assert found == [], "\n".join(found)


def test_axe__public_pages_at_phone_and_laptop_size_in_both_languages(browser, stack):
    found = []
    for width, height in PUBLIC_VIEWPORTS:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
        page = context.new_page()
        for path, heading_de, heading_en in (
            (f"answer?token={stack['answer_token']}", "Antwort auf unsere Anfrage", "Answer to our inquiry"),
            (f"reset?token={stack['reset_token']}", "Passwort neu setzen", "Set a new password"),
        ):
            page.goto(f"{stack['url']}/{path}")
            page.get_by_role("heading", name=heading_de).wait_for(timeout=60_000)
            settled(page)
            found += violations(page)
            screenshot(page, f"public-{path.split('?')[0]}-{width}x{height}-de")
            page.get_by_label("Sprache").click()
            page.get_by_role("option", name="English").click()
            page.get_by_role("heading", name=heading_en).wait_for(timeout=30_000)
            settled(page)
            found += violations(page)
            screenshot(page, f"public-{path.split('?')[0]}-{width}x{height}-en")
            overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
            assert not overflow, f"{path} scrolls sideways at {width}x{height}"
        context.close()
    assert found == [], "\n".join(found)


def tab_to(page, name: str, *, presses: int = 150) -> None:
    """Press Tab until the focused element is named ``name`` (its aria-label or text); fail if it never is."""
    trail = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return (e.getAttribute('aria-label') || e.innerText || '') }"
        )
        if name in focused:
            return
        trail.append(focused[:40])
    raise AssertionError(f"Tab never reached '{name}' within {presses} presses; focus went {trail}")


def test_keyboard__a_new_patient_is_created_with_tab_typing_and_enter_only(page, stack, engine):
    login(page, f"{stack['url']}/patient_new", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Neue/n Patient/in erfassen").wait_for(timeout=60_000)
    page.get_by_text("Angemeldet als").wait_for(timeout=60_000)  # the rerun after the login is over
    settled(page)
    # every widget drawn (the sidebar menu comes last; placeholders stand in for it until then)
    page.locator("[data-testid=stSidebar] a[href$='patients']").wait_for(timeout=60_000)
    page.get_by_role("spinbutton", name="day, Geburtsdatum *").wait_for(timeout=60_000)
    page.locator("body").focus()
    tab_to(page, "Vorname *")
    page.keyboard.type("Kim")
    tab_to(page, "Nachname *")
    page.keyboard.type("Tastatur")
    tab_to(page, "day, Geburtsdatum *")
    page.keyboard.type("14021988")
    tab_to(page, "PLZ *")
    page.keyboard.type("10115")
    tab_to(page, "Speichern")
    screenshot(page, "keyboard-patient-form")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Kim Tastatur").wait_for(timeout=60_000)
    with Session(engine) as session:
        created = session.query(Patient).filter_by(last_name="Tastatur").one()
        assert (created.first_name, created.birth_date, created.postcode) == ("Kim", date(1988, 2, 14), "10115")
