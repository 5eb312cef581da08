"""Climb the follow-up ladder once: ``python -m jobs.follow_up [--dry-run]``.

Reminder mails after FOLLOWUP_REMINDER_DAYS, phone calls FOLLOWUP_CALL_DAYS later (or at once for
practices without e-mail), further calls up to FOLLOWUP_CALL_ATTEMPTS, then expiry (items "no_answer").
The scheduler runs it hourly on working days (job ``follow_up``); by hand it runs through the same job
runner, so the run is recorded in ``job_run`` and never overlaps a scheduled one. Prints the counts.
"""

from __future__ import annotations

import argparse

from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.follow_up", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="decide every step, change nothing")
    args = parser.parse_args()
    run = run_by_hand("follow_up", dry_run=args.dry_run)
    print(run_json(run, counts=run.counts))
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
