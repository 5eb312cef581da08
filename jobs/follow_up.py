"""Climb the follow-up ladder once: ``python -m jobs.follow_up [--dry-run]``.

Reminder mails after FOLLOWUP_REMINDER_DAYS, phone calls FOLLOWUP_CALL_DAYS later (or at once for
practices without e-mail), further calls up to FOLLOWUP_CALL_ATTEMPTS, then expiry (items "no_answer").
The scheduler runs it hourly on working days (job ``follow_up``); by hand it runs through the same job
runner, so the run is recorded in ``job_run`` and never overlaps a scheduled one. Prints the counts.
"""

from __future__ import annotations

import argparse
import json

from core.operations import runner
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.follow_up", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="decide every step, change nothing")
    args = parser.parse_args()
    run = runner.run_job("follow_up", triggered_by="cli", dry_run=args.dry_run)
    print(json.dumps({"job": run.job_name, "status": run.status.value, "counts": run.counts, "error": run.error}))
    return 0 if run.status.value in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
