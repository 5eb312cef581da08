"""Send the mail outbox by SMTP: ``python -m jobs.send_emails [--dry-run] [--limit N] [--batch-size N] [--json]``.

Claims queued (and failed, due) mails in small batches with SKIP LOCKED, marks each 'sending' before
talking to the SMTP server and 'sent' after it accepted the mail. Temporary failures are retried with
exponential backoff, permanent ones (5xx) and mails out of attempts are marked dead. Mails left in
'sending' by a crashed run are never resent: they are flagged for review on the Mailbox page. Outside the
sending window (SEND_WINDOW, e.g. "Mon-Fri 08:00-18:00", in TIMEZONE, no public holidays) nothing is sent
and the summary says when the window opens. ``--dry-run`` counts the due mails and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import core.db.models  # noqa: F401  (every mapped table: an outbox row refers to patients, therapists, inquiries)
from core.communication import sender
from core.db import get_engine
from jobs.cli import main_guard


def summary(report: sender.SendReport) -> str:
    """Return the human summary of a run."""
    if not report.window_open:
        opens = report.opens_at.strftime("%a %d.%m.%Y %H:%M %Z") if report.opens_at else "never (check SEND_WINDOW)"
        head = f"sending window closed ({report.window_reason}); it opens {opens}"
        if not report.dry_run:
            return head + "\nnothing was sent"
        return f"{head}\n{report.due:,} mails are due\ndry run: nothing was written"
    if report.dry_run:
        return f"{report.due:,} mails are due\ndry run: nothing was written"
    lines = [
        f"claimed       {report.claimed:>7,}",
        f"sent          {report.sent:>7,}",
        f"failed        {report.failed:>7,}  (retried later with backoff)",
        f"dead          {report.dead:>7,}",
        f"needs review  {report.needs_review + report.flagged_in_doubt:>7,}  (see the Mailbox page)",
    ]
    if report.smtp_unavailable:
        lines.append("the SMTP server was unavailable: the run stopped early")
    lines += [f"  {error}" for error in report.errors[:5]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="count the due mails, send and write nothing")
    parser.add_argument("--limit", type=int, default=None, help="send at most this many mails, e.g. 100")
    parser.add_argument("--batch-size", type=int, default=sender.DEFAULT_BATCH, help="mails claimed at once, e.g. 20")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON instead of a summary")
    args = parser.parse_args()
    report = sender.send_due(
        get_engine(), now=datetime.now(UTC), limit=args.limit, batch_size=args.batch_size, dry_run=args.dry_run
    )
    print(json.dumps(report.as_dict(), default=str) if args.json else summary(report), flush=True)
    return 0


if __name__ == "__main__":
    main_guard(main)
