"""The SMTP sender against a real in-process SMTP server (aiosmtpd): once, retries, dead, window, doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.communication import sender
from core.communication.catcher import MailCatcher, _StoreHandler
from core.communication.models import Email, EmailStatus
from core.errors import IllegalTransition
from tests.support import outbox_mail
from tests.support.outbox_mail import NOW, add_mails, caught, rows, settings_for
from tests.support.postgres import free_port

smtp = outbox_mail.smtp  # the shared fixture: (port, mailbox) of a running catcher


class RejectingHandler(_StoreHandler):
    """Stores mail like the catcher but answers RCPT for chosen addresses with a chosen SMTP reply."""

    def __init__(self, mailbox: Path, replies: dict[str, str]) -> None:
        super().__init__(mailbox)
        self.replies = replies

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.replies:
            return self.replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_send_due__delivers_each_queued_mail_once_with_its_message_id(committed_db, smtp):
    port, mailbox = smtp
    add_mails(committed_db, 5)
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port), batch_size=2, clock=lambda: NOW)
    assert (report.claimed, report.sent, report.failed, report.dead) == (5, 5, 0, 0)
    stored = rows(committed_db)
    messages = caught(mailbox)
    assert sorted(m["Message-ID"] for m in messages) == sorted(r.message_id for r in stored.values())
    assert {m["From"] for m in messages} == {"vermittlung@example.org"}
    assert all(m.get_body(preferencelist=("html",)) is not None for m in messages)
    assert {(r.status, r.attempts, r.sent_at) for r in stored.values()} == {(EmailStatus.SENT, 1, NOW)}
    # a second run finds nothing to send
    again = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert again.claimed == 0
    assert len(caught(mailbox)) == 5
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "email.sent")) == 5


def test_send_due__limit_caps_the_mails_of_one_run(committed_db, smtp):
    port, mailbox = smtp
    add_mails(committed_db, 7)
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port), limit=3, batch_size=2)
    assert (report.claimed, report.sent) == (3, 3)
    assert len(caught(mailbox)) == 3


def test_send_due__smtp_unavailable_retries_with_backoff_then_delivers(committed_db, tmp_path):
    port, mailbox = free_port(), tmp_path / "mailbox"
    add_mails(committed_db, 3)
    settings = settings_for(port)
    first = sender.send_due(committed_db, now=NOW, settings=settings, clock=lambda: NOW)
    assert first.smtp_unavailable
    assert first.failed == 3
    assert first.sent == 0
    stored = rows(committed_db).values()
    assert {(r.status, r.attempts, r.next_attempt_at) for r in stored} == {
        (EmailStatus.FAILED, 1, NOW + timedelta(minutes=1))
    }
    assert all("ConnectFailed" in r.last_error for r in stored)
    # not yet due: nothing is claimed
    early = sender.send_due(committed_db, now=NOW + timedelta(seconds=30), settings=settings)
    assert early.claimed == 0
    # still down one minute later: second failure, two minutes of backoff
    later = NOW + timedelta(minutes=1)
    sender.send_due(committed_db, now=later, settings=settings, clock=lambda: later)
    assert {(r.attempts, r.next_attempt_at) for r in rows(committed_db).values()} == {(2, later + timedelta(minutes=2))}
    # the server comes up: delivered once, at the next due run
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    try:
        due = later + timedelta(minutes=2)
        report = sender.send_due(committed_db, now=due, settings=settings, clock=lambda: due)
    finally:
        catcher.stop()
    assert report.sent == 3
    assert {(r.status, r.attempts, r.last_error) for r in rows(committed_db).values()} == {(EmailStatus.SENT, 3, None)}
    assert len(caught(mailbox)) == 3


def test_send_due__marks_mail_dead_after_the_last_attempt(committed_db, tmp_path):
    port = free_port()  # nobody listens
    [email_id] = add_mails(committed_db, 1)
    settings = settings_for(port, send_max_attempts=2)
    for moment in (NOW, NOW + timedelta(hours=3)):
        sender.send_due(committed_db, now=moment, settings=settings, clock=lambda moment=moment: moment)
    row = rows(committed_db)[email_id]
    assert (row.status, row.attempts) == (EmailStatus.DEAD, 2)
    assert "ConnectFailed" in row.last_error


def test_send_due__permanent_rejection_is_dead_and_visible_others_delivered(committed_db, tmp_path):
    port, mailbox = free_port(), tmp_path / "mailbox"
    handler = RejectingHandler(mailbox, {"praxis1@example.org": "550 5.1.1 mailbox unavailable"})
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        ids = add_mails(committed_db, 3)
        report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    finally:
        controller.stop()
    assert (report.sent, report.dead, report.failed) == (2, 1, 0)
    dead = rows(committed_db)[ids[1]]
    assert dead.status == EmailStatus.DEAD
    assert dead.attempts == 1
    assert "550" in dead.last_error
    assert "mailbox unavailable" in dead.last_error
    assert len(caught(mailbox)) == 2
    with Session(committed_db) as session:
        state = sender.outbox_state(session)
    assert state["counts"]["dead"] == 1
    assert state["counts"]["sent"] == 2
    assert [(p["id"], p["status"]) for p in state["problems"]] == [(ids[1], "dead")]


def test_send_due__temporary_rejection_is_retried_later(committed_db, tmp_path):
    port, mailbox = free_port(), tmp_path / "mailbox"
    handler = RejectingHandler(mailbox, {"praxis0@example.org": "451 4.3.0 try again later"})
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        [email_id] = add_mails(committed_db, 1)
        report = sender.send_due(committed_db, now=NOW, settings=settings_for(port), clock=lambda: NOW)
    finally:
        controller.stop()
    row = rows(committed_db)[email_id]
    assert report.failed == 1
    assert (row.status, row.next_attempt_at) == (EmailStatus.FAILED, NOW + timedelta(minutes=1))
    assert "451" in row.last_error


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        (datetime(2026, 11, 28, 11, 0, tzinfo=UTC), "closed_day"),  # Saturday
        (datetime(2026, 11, 26, 19, 0, tzinfo=UTC), "outside_hours"),  # Thursday 20:00 in Berlin
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), "holiday"),  # Christmas Day, a Friday
        (datetime(2026, 10, 2, 16, 59, tzinfo=UTC), "outside_hours"),  # Friday 18:59 before German Unity Day
    ],
)
def test_send_due__sends_nothing_outside_the_default_window(committed_db, smtp, moment, reason):
    port, mailbox = smtp
    add_mails(committed_db, 2)
    report = sender.send_due(committed_db, now=moment, settings=settings_for(port, send_window="Mon-Fri 08:00-18:00"))
    assert (report.window_open, report.window_reason, report.claimed) == (False, reason, 0)
    assert report.opens_at is not None
    assert report.opens_at > moment
    assert caught(mailbox) == []
    assert {r.status for r in rows(committed_db).values()} == {EmailStatus.QUEUED}


def test_send_due__unity_day_closes_even_an_all_week_window(committed_db, smtp):
    port, mailbox = smtp
    add_mails(committed_db, 1)
    report = sender.send_due(
        committed_db,
        now=datetime(2026, 10, 3, 10, 0, tzinfo=UTC),
        settings=settings_for(port, send_window="Mon-Sun 00:00-24:00"),
    )
    assert (report.window_reason, report.claimed) == ("holiday", 0)
    assert caught(mailbox) == []


def test_send_due__dry_run_counts_due_mail_and_writes_nothing(committed_db, smtp):
    port, mailbox = smtp
    add_mails(committed_db, 4)
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port), dry_run=True)
    assert (report.due, report.claimed) == (4, 0)
    assert caught(mailbox) == []
    assert {r.status for r in rows(committed_db).values()} == {EmailStatus.QUEUED}


def test_send_due__mail_left_sending_by_a_dead_sender_is_flagged_not_resent(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 2)
    with Session(committed_db) as session:  # what a sender killed between claim and confirmation leaves
        session.get(Email, ids[0]).status = EmailStatus.SENDING
        session.commit()
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert (report.flagged_in_doubt, report.sent) == (1, 1)
    doubt = rows(committed_db)[ids[0]]
    assert (doubt.status, doubt.needs_review) == (EmailStatus.SENDING, True)
    assert [m["Message-ID"] for m in caught(mailbox)] == [rows(committed_db)[ids[1]].message_id]
    # flagged once only
    assert sender.send_due(committed_db, now=NOW, settings=settings_for(port)).flagged_in_doubt == 0


def test_send_due__does_not_flag_mail_of_a_live_sender(committed_db, smtp):
    from sqlalchemy import text

    port, _ = smtp
    [email_id] = add_mails(committed_db, 1)
    with Session(committed_db) as session:
        session.get(Email, email_id).status = EmailStatus.SENDING
        session.commit()
    with committed_db.connect() as other_sender:  # another sender is alive and holds the shared lock
        other_sender.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": sender.SENDER_LOCK_KEY})
        report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
        other_sender.rollback()
    assert report.flagged_in_doubt == 0
    assert rows(committed_db)[email_id].needs_review is False


@pytest.mark.parametrize(
    ("delivered", "status"),
    [
        (True, EmailStatus.SENT),  # staff found it delivered: marked sent
        (False, EmailStatus.QUEUED),  # not delivered: queued to be sent again
    ],
)
def test_resolve_review__settles_a_mail_in_doubt(committed_db, delivered, status):
    [email_id] = add_mails(committed_db, 1)
    with Session(committed_db) as session:
        row = session.get(Email, email_id)
        row.status, row.needs_review = EmailStatus.SENDING, True
        session.commit()
    with Session(committed_db) as session:
        sender.resolve_review(session, email_id=email_id, delivered=delivered, actor="sam@example.org", now=NOW)
        session.commit()
    row = rows(committed_db)[email_id]
    assert (row.status, row.needs_review) == (status, False)


def test_resolve_review__refuses_a_mail_not_in_doubt(committed_db):
    [email_id] = add_mails(committed_db, 1)
    with Session(committed_db) as session, pytest.raises(IllegalTransition, match=str(email_id)):
        sender.resolve_review(session, email_id=email_id, delivered=True, actor="sam@example.org", now=NOW)


def test_send_emails_job__is_registered_and_runs_dry_through_the_runner(committed_db):
    from core.operations import registry, runner

    assert registry.get("send_emails").target == "core.communication.sender:scheduled_run"
    add_mails(committed_db, 3)
    run = runner.run_job("send_emails", dry_run=True, engine=committed_db, now=NOW)
    assert run.status.value == "succeeded"
    assert (run.counts["due"], run.counts["window_open"], run.counts["claimed"]) == (3, True, 0)
    assert {r.status for r in rows(committed_db).values()} == {EmailStatus.QUEUED}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--limit", "0"], "limit must be at least 1"),  # a run that may send nothing is a mistake
        (["--batch-size", "0"], "batch size must be at least 1"),
    ],
)
def test_send_emails_cli__rejects_bad_numbers_with_exit_code_2(repo_root, database_url, args, expected):
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "jobs.send_emails", *args],
        cwd=repo_root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert expected in result.stderr


def test_send_due__mail_that_cannot_be_built_is_dead_and_the_others_go_out(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 3)
    with Session(committed_db) as session:  # a header injection attempt must never reach the server
        session.get(Email, ids[1]).subject = "Ihre Suche\nBcc: alle@example.org"
        session.commit()
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert (report.sent, report.dead, report.needs_review) == (2, 1, 0)
    dead = rows(committed_db)[ids[1]]
    assert (dead.status, dead.needs_review) == (EmailStatus.DEAD, False)
    assert "line break" in dead.last_error
    assert len(caught(mailbox)) == 2


def test_send_due__an_inquiry_counts_as_sent_when_its_mail_is(committed_db, smtp):
    from core.communication.outbox import enqueue, inquiry_context
    from core.matching.models import Inquiry, InquiryStatus
    from tests.support.matching import searching_patient, sent, therapist

    port, mailbox = smtp
    with Session(committed_db) as session:
        doctor = therapist(session, "Kraus")
        inquiry = sent(session, doctor, [searching_patient(session)], status=InquiryStatus.QUEUED)
        context = inquiry_context(session, inquiry_id=inquiry.id, now=NOW)
        enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                inquiry_id=inquiry.id, therapist_id=doctor.id, now=NOW)  # fmt: skip
        session.commit()
        inquiry_id = inquiry.id
    add_mails(committed_db, 2)  # sent after it, in the same run
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port), clock=lambda: NOW)
    assert report.sent == 3
    assert len(caught(mailbox)) == 3
    with Session(committed_db) as session:
        assert session.get(Inquiry, inquiry_id).status == InquiryStatus.SENT
        audits = session.scalars(select(AuditEvent).where(AuditEvent.action == "email.sent")).all()
    assert sorted(a.details["fields"] for a in audits) == [["status", "sent_at"]] * 3
    assert {a.details["attempts"] for a in audits} == {1}


def test_send_due__two_senders_at_once_share_the_queue_and_send_each_mail_once(committed_db, smtp):
    import threading
    from collections import Counter

    port, mailbox = smtp
    add_mails(committed_db, 120)
    reports: list[sender.SendReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(sender.send_due(committed_db, now=NOW, settings=settings_for(port), batch_size=5))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    ids = Counter(m["Message-ID"] for m in caught(mailbox))
    assert [mid for mid, n in ids.items() if n > 1] == []
    assert len(ids) == 120
    assert all(r.claimed > 0 for r in reports)  # both worked on the queue ...
    assert sorted(r.sent for r in reports) == sorted(r.claimed for r in reports)  # ... on different mails
    assert sum(r.sent for r in reports) == 120
    assert {(r.status, r.attempts) for r in rows(committed_db).values()} == {(EmailStatus.SENT, 1)}


def test_send_due__mail_claimed_by_a_dead_sender_is_requeued_audited_and_sent(committed_db, smtp):
    port, mailbox = smtp
    ids = add_mails(committed_db, 2)
    with Session(committed_db) as session:  # claimed by a sender killed before it handed the mail over
        row = session.get(Email, ids[0])
        row.claimed_by, row.claimed_at = "0b7c9a52-5d6e-4f3a-9c1b-2e8d7f6a5b4c", datetime.now(UTC)
        session.commit()
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert (report.requeued, report.flagged_in_doubt, report.sent) == (1, 0, 2)
    assert len(caught(mailbox)) == 2
    with Session(committed_db) as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "email.requeued")).all()
    assert [a.entity_id for a in audit] == [str(ids[0])]


def test_send_due__mail_claimed_before_a_database_restart_is_flagged_not_resent(committed_db, smtp):
    port, mailbox = smtp
    [email_id] = add_mails(committed_db, 1)
    with Session(committed_db) as session:  # the per-mail commits after this claim may have died with the server
        row = session.get(Email, email_id)
        row.claimed_by, row.claimed_at = "0b7c9a52-5d6e-4f3a-9c1b-2e8d7f6a5b4c", datetime(2000, 1, 1, tzinfo=UTC)
        session.commit()
    report = sender.send_due(committed_db, now=NOW, settings=settings_for(port))
    assert (report.requeued, report.flagged_in_doubt, report.sent) == (0, 1, 0)
    row = rows(committed_db)[email_id]
    assert (row.status, row.needs_review, row.claimed_by) == (EmailStatus.SENDING, True, None)
    assert caught(mailbox) == []
