"""Lift therapist blocks whose until-date has come: ``python -m jobs.unblock_therapists [--dry-run]``.

The scheduler runs this hourly (job ``unblock_therapists``); by hand it runs through the same job runner,
so the run is recorded in ``job_run`` and never overlaps a scheduled one.
"""

from __future__ import annotations

import argparse

from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.unblock_therapists", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report what would be unblocked, change nothing")
    args = parser.parse_args()
    run = run_by_hand("unblock_therapists", dry_run=args.dry_run)
    print(run_json(run, counts=run.counts))
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
