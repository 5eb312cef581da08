"""Send the mail outbox by SMTP: ``python -m jobs.send_emails [--dry-run] [--limit N] [--batch-size N] [--json]``.

Claims queued (and failed, due) mails in small batches with SKIP LOCKED, marks each 'sending' before
talking to the SMTP server and 'sent' after it accepted the mail. Temporary failures are retried with
exponential backoff, permanent ones (5xx) and mails out of attempts are marked dead. Mails left in
'sending' by a crashed run are never resent: they are flagged for review on the Mailbox page. Outside the
sending window (SEND_WINDOW, e.g. "Mon-Fri 08:00-18:00", in TIMEZONE, no public holidays) nothing is sent
and the summary says when the window opens. ``--dry-run`` counts the due mails and writes nothing. Runs
through the job runner like the scheduled job: recorded in ``job_run``, skipped while it runs elsewhere.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.communication import sender
from core.errors import ValidationError
from jobs.cli import exit_code, main_guard, run_by_hand, run_json


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
    # checked here, before the runner: bad options are the caller's mistake (exit 2), not a failed run
    if args.limit is not None and args.limit < 1:
        raise ValidationError(f"limit must be at least 1, got {args.limit}; e.g. --limit 100", field="limit")
    if args.batch_size < 1:
        raise ValidationError(f"batch size must be at least 1, got {args.batch_size}; e.g. 20", field="batch_size")
    reports: list[sender.SendReport] = []

    def send(session: Session, *, now: datetime, dry_run: bool) -> dict[str, Any]:
        # the sender commits per mail on its own connections: a mail's result must not wait for the run
        report = sender.send_due(session.get_bind(), now=now, limit=args.limit, batch_size=args.batch_size,
                                 dry_run=dry_run)  # fmt: skip
        reports.append(report)
        return report.as_dict()

    run = run_by_hand("send_emails", dry_run=args.dry_run, function=send)
    if run.status.value != "succeeded":
        if args.json:
            print(run_json(run))
        return exit_code(run)
    report = reports[0]
    print(json.dumps(report.as_dict(), default=str) if args.json else summary(report), flush=True)
    return 0


if __name__ == "__main__":
    main_guard(main)
