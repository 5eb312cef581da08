"""The Mailbox page in AppTest: caught mail (list, HTML, text, headers), outbox state, settling mail in doubt."""

from __future__ import annotations

import shutil
import socket
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.communication import sender
from core.communication.catcher import MailCatcher, read_mailbox
from core.communication.models import Email, EmailStatus
from core.config import get_settings, load_settings
from tests.dashboards.conftest import open_page, texts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    """The mailbox the page reads (DATA_DIR/mailbox), empty before and after the test."""
    path = get_settings().data_dir / "mailbox"
    shutil.rmtree(path, ignore_errors=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def outbox_row(session: Session, n: int, **fields) -> Email:
    row = Email(
        template="status_update",
        to_address=f"patient{n}@example.org",
        subject=f"Stand Ihrer Suche {n}",
        body_text=f"Guten Tag, Nummer {n}.",
        body_html=f"<p>Guten Tag, <b>Nummer {n}</b>.</p>",
        message_id=f"<{uuid.uuid4().hex}@workbench.example.org>",
        **fields,
    )
    session.add(row)
    return row


@pytest.fixture
def outbox(committed_db, mailbox):
    """Two mails really sent to the catcher, one dead, one in doubt: {name: email id}."""
    with Session(committed_db) as session:
        rows = {"first": outbox_row(session, 1), "second": outbox_row(session, 2)}
        session.commit()
        port = free_port()
        catcher = MailCatcher(mailbox, port=port)
        catcher.start()
        try:
            always = "Mon-Sun 00:00-24:00 holidays=none"
            settings = load_settings(smtp_port=port, smtp_security="none", smtp_user=None, send_window=always)
            assert sender.send_due(committed_db, now=datetime.now(UTC), settings=settings).sent == 2
        finally:
            catcher.stop()
        rows["dead"] = outbox_row(session, 3, status=EmailStatus.DEAD, attempts=6, last_error="550 5.1.1 no such user")
        rows["doubt"] = outbox_row(
            session, 4, status=EmailStatus.SENDING, attempts=1, needs_review=True, last_error=sender.IN_DOUBT_NOTE
        )
        session.commit()
        return {name: row.id for name, row in rows.items()}


def as_role(repo_root, staff, role="staff", **query):
    user_id, email = staff
    return open_page(repo_root, "mailbox.py", user_id=user_id, email=email, role=role, query=query)


def test_mailbox__shows_caught_mail_and_the_outbox_state(repo_root, staff, outbox, committed_db):
    at = as_role(repo_root, staff)
    assert not at.exception
    page = texts(at)
    assert "Gesendet: 2" in page
    assert "Unzustellbar: 1" in page
    assert "Zu prüfen: 1" in page
    problems = at.dataframe[0].value
    assert set(problems["Letzter Fehler"]) == {
        "550 5.1.1 no such user",
        "Versand brach ab, nachdem die Mail an den Mailserver ging: ob sie ankam, ist unklar.",
    }
    caught_list = at.dataframe[1].value
    assert set(caught_list["Betreff"]) == {"Stand Ihrer Suche 1", "Stand Ihrer Suche 2"}
    assert set(caught_list["An"]) == {"patient1@example.org", "patient2@example.org"}
    # the newest mail is selected: its text and headers are shown, with the outbox row's Message-ID
    assert "Guten Tag, Nummer 2." in at.code[0].value
    headers = at.dataframe[2].value.set_index("Kopfzeile")["Wert"]
    with Session(committed_db) as session:
        assert headers["Message-ID"] == session.get(Email, outbox["second"]).message_id


def test_mailbox__query_parameter_selects_a_mail(repo_root, staff, outbox, mailbox):
    oldest = read_mailbox(mailbox)[-1]
    at = as_role(repo_root, staff, mail=oldest.path.stem)
    assert not at.exception
    assert at.selectbox(key="mail_pick").value == oldest.path.stem
    assert "Guten Tag, Nummer 1." in at.code[0].value


def test_mailbox__search_narrows_the_list(repo_root, staff, outbox):
    at = as_role(repo_root, staff)
    at.text_input(key="mail_search").input("patient1").run()
    assert list(at.dataframe[1].value["An"]) == ["patient1@example.org"]
    at.text_input(key="mail_search").input("niemand").run()
    assert "Keine empfangene Mail passt" in texts(at)


@pytest.mark.parametrize(
    ("button", "status"),
    [
        (0, EmailStatus.SENT),  # "It arrived": recorded as sent
        (1, EmailStatus.QUEUED),  # "Send again": back in the queue
    ],
)
def test_mailbox__staff_settle_a_mail_in_doubt(repo_root, staff, outbox, committed_db, button, status):
    at = as_role(repo_root, staff)
    form_buttons = [b for b in at.button if b.key and "FormSubmitter:mail_review" in b.key]
    form_buttons[button].click().run()
    assert not at.exception
    with Session(committed_db) as session:
        row = session.get(Email, outbox["doubt"])
        assert (row.status, row.needs_review) == (status, False)
    assert f"Mail {outbox['doubt']}" in texts(at)


def test_mailbox__empty_mailbox_explains_what_fills_it(repo_root, staff, mailbox):
    at = as_role(repo_root, staff)
    assert not at.exception
    page = texts(at)
    assert "noch keine Mail empfangen" in page
    assert "Keine unzustellbaren oder zu prüfenden Mails." in page
    assert "Sendefenster Mo–Fr 08:00–18:00:" in page  # the default SEND_WINDOW, in German words
    assert "Mon-Fri" not in page


def test_mailbox__is_not_open_to_analysts(repo_root, staff, outbox):
    at = as_role(repo_root, staff, role="analyst")  # the menu has no such page for them: another page opens
    assert "Postfach" not in texts(at)
    assert "Stand Ihrer Suche" not in texts(at)


def test_mailbox__opening_a_mail_is_audited_by_its_name_not_its_recipient(repo_root, staff, outbox, committed_db):
    from sqlalchemy import select

    from core.audit.models import AuditEvent

    newest = read_mailbox(get_settings().data_dir / "mailbox")[0]
    at = as_role(repo_root, staff)
    assert not at.exception
    with Session(committed_db) as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "read.mail"))
    assert (event.actor, event.entity_type, event.entity_id) == (staff[1], "caught_mail", newest.path.stem)
    assert event.reason == "page:mailbox"
    assert "example.org" not in str(event.details)  # no recipient address


def test_mailbox__mail_html_is_shown_in_a_sandbox_without_scripts(repo_root, staff, outbox):
    import base64

    at = as_role(repo_root, staff)
    (frame,) = [e for e in at.get("iframe")]
    url = frame.proto.src
    wrapper = base64.b64decode(url.split(",", 1)[1]).decode()
    assert url.startswith("data:text/html")  # an opaque origin, not the app's
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in wrapper  # no allow-scripts, no same-origin
    assert "default-src &#x27;none&#x27;" in wrapper or "default-src 'none'" in wrapper
    assert "Nummer" in wrapper  # the mail's text is there to read


def review_table(at):
    """The rows "to review" (mail in doubt) of the outbox problems table."""
    problems = at.dataframe[0].value
    return problems[problems["Status"] == "Zu prüfen"]


def test_mailbox__mail_in_doubt_shows_its_message_id_and_that_the_local_catcher_never_got_it(
    repo_root, staff, outbox, committed_db
):
    at = as_role(repo_root, staff)
    assert not at.exception
    with Session(committed_db) as session:
        doubt = session.get(Email, outbox["doubt"])
    table = review_table(at)
    assert list(table["Message-ID"]) == [doubt.message_id]  # what to look for at the recipient or the server
    assert list(table["Im lokalen Mail-Catcher"]) == ["nicht empfangen"]


def test_mailbox__mail_in_doubt_the_local_catcher_received_is_shown_as_arrived(
    repo_root, staff, outbox, committed_db, mailbox
):
    with Session(committed_db) as session:
        doubt = session.get(Email, outbox["doubt"])
        message = sender.build_message(doubt, mail_from="vermittlung@example.org", now=datetime.now(UTC))
    port = free_port()
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    try:  # the sender died after the server had accepted the mail
        import smtplib

        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
    finally:
        catcher.stop()
    at = as_role(repo_root, staff)
    assert not at.exception
    assert list(review_table(at)["Im lokalen Mail-Catcher"]) == ["empfangen"]


def test_mailbox__a_queued_mail_can_be_read_before_it_goes_out(repo_root, staff, mailbox, committed_db):
    with Session(committed_db) as session:
        waiting = outbox_row(session, 5)  # queued: the sender job has not run yet (e.g. outside the window)
        outbox_row(session, 6, status=EmailStatus.FAILED, attempts=1, last_error="421 try later")
        session.commit()
        waiting_id = waiting.id
    at = as_role(repo_root, staff)
    assert not at.exception
    picker = at.selectbox(key="queued_pick")
    assert len(picker.options) == 2  # the queued mail and the one waiting for its retry
    picker.set_value(waiting_id).run()
    assert not at.exception
    assert "Stand Ihrer Suche 5" in texts(at)
    assert "Guten Tag, Nummer 5." in [code.value for code in at.code]
    with Session(committed_db) as session:  # reading a mail body is a read of personal data: audited
        reads = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.entity_type == "email")).all()
        assert str(waiting_id) in reads
