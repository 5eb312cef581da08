"""Benchmark: sender throughput to the local SMTP catcher (mails per second), against raw smtplib.

The sender (a durable claim commit per batch; per mail one autocommitted statement with a lazy commit that
marks it 'sending' and writes the previous mail's 'sent' with its audit row and event; SMTP over one connection)
delivers MAILS queued mails to the in-process aiosmtpd catcher; the baseline sends the very same messages
over one smtplib connection without any database, in the same run. Run with ``make bench``; prints both rates and
the ratio. Correctness is asserted (every mail arrives once), times are not.
"""

from __future__ import annotations

import smtplib
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.communication import sender
from core.communication.catcher import MailCatcher
from core.communication.models import Email, EmailStatus
from core.config import load_settings
from tests.integration.test_sender import free_port

MAILS = 2_000


def test_bench__sender_throughput_against_raw_smtplib(committed_db, tmp_path):
    with Session(committed_db) as session:
        session.execute(
            insert(Email),
            [
                {
                    "template": "status_update",
                    "to_address": f"praxis{i}@example.org",
                    "subject": f"Anfrage TP-{i:05d}",
                    "body_text": "Guten Tag,\n\nwir suchen einen Therapieplatz.\n" * 10,
                    "body_html": "<p>Guten Tag,</p><p>wir suchen einen Therapieplatz.</p>" * 10,
                    "message_id": f"<{uuid.uuid4().hex}@workbench.example.org>",
                    "status": EmailStatus.QUEUED,
                }
                for i in range(MAILS)
            ],
        )
        session.commit()
        rows = list(session.scalars(select(Email).order_by(Email.id)))
        messages = [
            sender.build_message(row, mail_from="vermittlung@example.org", now=datetime.now(UTC)) for row in rows
        ]

    port = free_port()
    baseline_box, sender_box = tmp_path / "baseline", tmp_path / "sender"
    catcher = MailCatcher(baseline_box, port=port)
    catcher.start()
    try:
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for message in messages:
                smtp.send_message(message)
        baseline = time.perf_counter() - started
    finally:
        catcher.stop()

    port = free_port()
    catcher = MailCatcher(sender_box, port=port)
    catcher.start()
    settings = load_settings(
        smtp_port=port, smtp_security="none", smtp_user=None, send_window="Mon-Sun 00:00-24:00 holidays=none"
    )
    try:
        started = time.perf_counter()
        report = sender.send_due(committed_db, now=datetime.now(UTC), settings=settings)
        elapsed = time.perf_counter() - started
    finally:
        catcher.stop()

    assert report.sent == MAILS
    assert len(list(baseline_box.glob("*.eml"))) == len(list(sender_box.glob("*.eml"))) == MAILS
    print(
        f"\nsender to the local SMTP catcher, {MAILS:,} mails:\n"
        f"  raw smtplib (no database)  {MAILS / baseline:8.0f} mails/s  ({baseline:.2f} s)\n"
        f"  jobs.send_emails sender    {MAILS / elapsed:8.0f} mails/s  ({elapsed:.2f} s)\n"
        f"  ratio                      {elapsed / baseline:8.2f} x the raw time "
        f"(a durable claim per batch; per mail one autocommitted statement, committed lazily)"
    )
