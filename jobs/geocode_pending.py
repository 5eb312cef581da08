"""Geocode patients, therapists and practices without a usable location: ``python -m jobs.geocode_pending``.

Options: ``--limit N`` stops after N records, ``--dry-run`` works offline (cache and PLZ centroids only,
no request to Nominatim) and rolls everything back, ``--batch-size N`` commits every N records.
Progress goes to stderr, the counts by precision to stdout as JSON. Ctrl-C stops after keeping every
finished batch; run the command again to resume. Nominatim is asked only when NOMINATIM_URL is set, at
most once per second across all processes. Runs through the job runner like the scheduled job: recorded in
``job_run``, skipped while it runs elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from core.geo import pending
from core.geo.geocoding import client_from_settings
from jobs.cli import exit_code, main_guard, run_by_hand, run_json

BAR_WIDTH = 30


class ProgressLine:
    """Draw one updating progress line on stderr: bar, done/total, rate, counts by precision."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.interactive = stream.isatty()

    def __call__(self, done: int, total: int, counts: Counter) -> None:
        now = time.monotonic()
        # a terminal gets a redraw at most 10 times a second; a log file one line per 10 % (and the last)
        if self.interactive and now - self.last_drawn < 0.1 and done != total:
            return
        step = max(1, total // 10)
        if not self.interactive and done % step and done != total:
            return
        self.last_drawn = now
        filled = BAR_WIDTH * done // max(total, 1)
        rate = done / max(now - self.started, 1e-9)
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}  {rate:.1f}/s  "
            f"address {counts['address']}  postcode {counts['postcode']}  none {counts['none']}"
        )
        end = "\r" if self.interactive and done != total else "\n"
        print(line, end=end, file=self.stream, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="stop after N records (default: all pending)")
    parser.add_argument("--dry-run", action="store_true", help="offline, and roll back every change")
    parser.add_argument("--batch-size", type=int, default=pending.BATCH_SIZE, help="commit every N records")
    args = parser.parse_args()
    if args.limit is not None and args.limit < 0:
        parser.error(f"--limit {args.limit} must not be negative, e.g. --limit 100")
    if args.batch_size < 1:
        parser.error(f"--batch-size {args.batch_size} must be at least 1, e.g. --batch-size 20")
    progress = ProgressLine()

    def geocode(session: Session, *, now: datetime, dry_run: bool) -> dict[str, int]:
        client = None if dry_run else client_from_settings(session)
        print(
            "geocoding " + ("offline (PLZ centroids and cache)" if client is None else "with Nominatim, 1 request/s"),
            file=sys.stderr,
        )
        try:
            return pending.geocode_pending(
                session,
                now=now,
                client=client,
                limit=args.limit,
                batch_size=args.batch_size,
                commit=None if dry_run else session.commit,
                progress=progress,
            )
        except KeyboardInterrupt:
            session.rollback()
            print("\ninterrupted: finished batches are saved; run the command again to resume", file=sys.stderr)
            raise

    run = run_by_hand("geocode_pending", dry_run=args.dry_run, function=geocode)
    if run.status.value != "succeeded":
        print(run_json(run))
        return exit_code(run)
    print(json.dumps({"dry_run": args.dry_run, **run.counts}))
    return 0


if __name__ == "__main__":
    main_guard(main)
