"""The sender sends a mail's body while its 'sending' mark is under way and holds back the final "." of DATA.

The database itself is made to misbehave for one chosen mail (a trigger on the real ``email`` table): the mark
fails, finds the mail no longer claimed, or returns content that changed since the claim. What the real SMTP
catcher received, and what the outbox says afterwards, must be what the sender's guarantee promises: a mail
reaches the server only after it is durably 'sending', never twice, and never with content other than stored.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.communication import sender
from core.communication.models import EmailStatus
from tests.support import outbox_mail
from tests.support.outbox_mail import NOW, add_mails, caught, rows, settings_for

smtp = outbox_mail.smtp  # the shared fixture: (port, mailbox) of a running catcher


@contextlib.contextmanager
def on_marking(engine, email_id: int, action: str):
    """While active, the UPDATE that marks ``email_id`` 'sending' runs ``action`` (PL/pgSQL) after 0.2 s."""
    with engine.begin() as db:
        db.execute(text(f"""
            CREATE FUNCTION test_on_marking() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(0.2); {action} END $$;
            CREATE TRIGGER test_on_marking BEFORE UPDATE ON email FOR EACH ROW
            WHEN (NEW.status = 'sending' AND OLD.status <> 'sending' AND OLD.id = {int(email_id)})
            EXECUTE FUNCTION test_on_marking();
        """))  # fmt: skip
    try:
        yield
    finally:
        with engine.begin() as db:
            db.execute(text("DROP TRIGGER test_on_marking ON email; DROP FUNCTION test_on_marking();"))


def test_send_due__mark_that_fails_while_the_body_is_on_the_wire_delivers_nothing_and_requeues(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 3)
    with on_marking(committed_db, ids[1], "RAISE EXCEPTION 'disk full';"), pytest.raises(SQLAlchemyError):
        sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    stored = rows(committed_db)
    assert [m["Message-ID"] for m in caught(mailbox)] == [stored[ids[0]].message_id]  # the body never counted
    failed = stored[ids[1]]
    assert (failed.status, failed.attempts, failed.claimed_by) == (EmailStatus.QUEUED, 0, None)  # due again
    assert stored[ids[0]].status in (EmailStatus.SENT, EmailStatus.SENDING)  # at most this one in doubt

    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    stored = rows(committed_db)
    delivered = [m["Message-ID"] for m in caught(mailbox)]
    assert sorted(delivered) == sorted(row.message_id for row in stored.values())  # each once, none lost
    assert report.sent == 2
    assert stored[ids[0]].status == EmailStatus.SENT or stored[ids[0]].needs_review  # never resent


def test_send_due__mail_no_longer_claimed_when_marked_is_not_delivered(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 3)
    with on_marking(committed_db, ids[1], "RETURN NULL;"):  # as if taken away meanwhile: the mark finds nothing
        report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    stored = rows(committed_db)
    assert sorted(m["Message-ID"] for m in caught(mailbox)) == sorted(stored[i].message_id for i in (ids[0], ids[2]))
    assert (report.sent, report.claimed) == (2, 2)
    assert stored[ids[1]].status == EmailStatus.QUEUED


def test_send_due__mail_rewritten_after_its_claim_goes_out_as_stored_once(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 3)
    rewrite = "NEW.subject := 'Ihre Suche (neu)'; NEW.body_text := 'Neuer Text'; RETURN NEW;"  # e.g. an erasure
    with on_marking(committed_db, ids[1], rewrite):
        report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert report.sent == 3
    received = {m["Message-ID"]: m for m in caught(mailbox)}
    assert len(caught(mailbox)) == 3
    rewritten = received[rows(committed_db)[ids[1]].message_id]
    assert rewritten["Subject"] == "Ihre Suche (neu)"
    assert rewritten.get_body(("plain",)).get_content().strip() == "Neuer Text"
