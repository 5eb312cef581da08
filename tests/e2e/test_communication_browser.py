"""In Chromium: approve a proposal, send the mail, see it in the Mailbox, answer through its link, see the timeline."""

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.communication.catcher import MailCatcher, read_mailbox
from core.communication.outbox import inquiry_context
from core.config import get_settings
from core.db import session_scope
from core.demo import seed
from core.matching import service as matching
from core.matching.models import InquiryItem, ItemOutcome
from core.patients.models import Search
from tests.e2e.conftest import login, screenshot
from tests.support.postgres import free_port

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"
SHOWN_PER_PAGE = 20


def test_inquiry_mail_to_answer_to_timeline(page, browser, streamlit_app, committed_db, repo_root):
    with session_scope(committed_db) as session:
        seed(session, therapists=400, patients=120, seed=9, today=date.today())
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        matching.scheduled_run(session, now=datetime.now(UTC))
    with Session(committed_db) as session:
        proposal = next(
            p
            for p in matching.list_proposals(session)[:SHOWN_PER_PAGE]
            if inquiry_context(session, inquiry_id=p["inquiry_id"], now=datetime.now(UTC)).get("to_address")
        )

    login(page, f"{streamlit_app}/proposals", "sam@example.org", PASSWORD)
    page.locator(f".st-key-approve_{proposal['inquiry_id']} button").click(timeout=60_000)
    page.get_by_text(f"Anfrage {proposal['reference']} freigegeben.").wait_for(timeout=30_000)

    # the sender job delivers the queued mail to a real SMTP server whose mailbox the Mailbox page reads
    mailbox = get_settings().data_dir / "mailbox"
    catcher = MailCatcher(mailbox, port=free_port())
    catcher.start()
    try:
        env = {
            **os.environ,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(catcher.controller.port),
            "SEND_WINDOW": "Mon-Sun 00:00-24:00 holidays=none",
        }
        result = subprocess.run(
            [sys.executable, "-m", "jobs.send_emails"],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    finally:
        catcher.stop()
    (mail,) = [m for m in read_mailbox(mailbox) if proposal["reference"] in m.subject]

    page.get_by_role("link", name="Postfach").click()
    page.get_by_text(proposal["reference"]).first.wait_for(timeout=30_000)
    screenshot(page, "communication-mailbox")

    token = re.search(r"/answer\?token=([\w.\-]+)", mail.text).group(1)
    answering = browser.new_context().new_page()  # the therapist: another browser, not logged in
    answering.goto(f"{streamlit_app}/answer?token={token}")
    answering.get_by_role("heading", name="Antwort auf unsere Anfrage").wait_for(timeout=60_000)
    answering.get_by_text("Ich biete einen Platz an").click()
    answering.get_by_role("button", name="Antwort senden").click()
    answering.get_by_text("Vielen Dank! Ihre Antwort ist gespeichert").wait_for(timeout=30_000)
    screenshot(answering, "communication-answered")

    with Session(committed_db) as session:
        item = session.scalars(
            select(InquiryItem).where(
                InquiryItem.inquiry_id == proposal["inquiry_id"], InquiryItem.outcome == ItemOutcome.ACCEPTED
            )
        ).one()
        patient_id = session.get(Search, item.search_id).patient_id
    login(page, f"{streamlit_app}/patient?id={patient_id}", "sam@example.org", PASSWORD)
    # the logged-in page must be there before the tab is clicked, or the rerun after login resets the tab
    page.get_by_role("link", name="Zur Liste").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Suche & Anfragen").click()
    page.get_by_text(f"Anfrage {proposal['reference']}").filter(has_text="Zusage").first.wait_for(timeout=30_000)
    screenshot(page, "communication-patient-timeline")
    assert page.outside_requests == []
