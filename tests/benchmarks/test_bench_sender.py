"""Benchmark: sender throughput to the local SMTP catcher (mails per second), against raw smtplib.

The sender (a durable claim commit per batch; per mail one autocommitted statement with a lazy commit that
marks it 'sending' and writes the previous mail's 'sent' with its audit row and event, run on a second thread
while MAIL, RCPT, DATA and the body go out; only the final "." waits for it; SMTP over one connection)
delivers MAILS queued mails to the in-process aiosmtpd catcher; the baseline sends the very same messages
over one smtplib connection without any database, in the same run. Run with ``make bench``; prints both rates, the
ratio, this process's CPU time for each (the in-process catcher included) and the load average. Correctness is
asserted (every mail arrives once), times are not.

Measured 2026-12-01 on the shared 2-core machine, with the overlap and the held-back ".": at load average 4.5
raw smtplib 178 mails/s (11.2 s wall, 6.1 s CPU), the sender 95 mails/s (21.1 s wall, 12.4 s CPU): 53 % of raw
by wall time, 49 % by CPU time; at load 6.3 twice: 58 and 62 vs 147 and 120 mails/s (40 % and 52 % by wall,
CPU 14.7 and 14.2 s vs 6.5 and 7.9 s). The sender before the change, same day: 66 vs 137 mails/s at load 5.2
(48 %, CPU 11.7 vs 7.0 s); 22 vs 73 mails/s at load 16.8 (31 %). Old and new sender interleaved in one process
(1,000 mails, three rounds, load 4): 124/148/114 vs 91/101/125 mails/s, CPU equal (5.1-5.3 s vs 5.1-6.5 s).
So the overlap gains about a fifth in wall time and costs no CPU, but the ratio to raw smtplib swings with the
load between about 40 and 53 %: issue 13's 50 % is reached only on a lightly loaded machine. The held-back "."
needs TCP_NODELAY: without it Nagle's algorithm waited for the server's delayed ACK, about 50 ms per mail
(19 mails/s). What is left per mail: the ORM UPDATE ... RETURNING of the mark (CPU, on the second thread but
under the same GIL as the in-process catcher) and building the MIME message; marking a whole batch 'sending' in
one commit would cut the round trips but leave up to a batch in doubt.

Quiet run, 2026-12-01 12:52 UTC, load average 1.1: raw smtplib 308 mails/s (6.49 s, 6.31 s CPU), the sender
216 mails/s (9.24 s, 8.50 s CPU): 70 % of raw smtplib's throughput, above issue 13's 50 %.
"""

from __future__ import annotations

import os
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
from tests.support.postgres import free_port

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
        started, cpu_started = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for message in messages:
                smtp.send_message(message)
        baseline, baseline_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        catcher.stop()

    port = free_port()
    catcher = MailCatcher(sender_box, port=port)
    catcher.start()
    settings = load_settings(
        smtp_port=port, smtp_security="none", smtp_user=None, send_window="Mon-Sun 00:00-24:00 holidays=none"
    )
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        report = sender.send_due(committed_db, now=datetime.now(UTC), settings=settings)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        catcher.stop()

    assert report.sent == MAILS
    assert len(list(baseline_box.glob("*.eml"))) == len(list(sender_box.glob("*.eml"))) == MAILS
    print(
        f"\nsender to the local SMTP catcher, {MAILS:,} mails:\n"
        f"  raw smtplib (no database)  {MAILS / baseline:8.0f} mails/s  ({baseline:.2f} s, CPU {baseline_cpu:.2f} s)\n"
        f"  jobs.send_emails sender    {MAILS / elapsed:8.0f} mails/s  ({elapsed:.2f} s, CPU {elapsed_cpu:.2f} s)\n"
        f"  ratio                      {elapsed / baseline:8.2f} x the raw time "
        f"(a durable claim per batch; per mail one autocommitted statement, overlapped with SMTP)\n"
        f"  CPU time is this process's, the in-process catcher included; load average {os.getloadavg()[0]:.1f}"
    )
