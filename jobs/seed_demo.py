"""Seed deterministic synthetic demo data: ``python -m jobs.seed_demo --therapists 3000 --patients 300 --seed 42``.

The same --seed and --today give the same rows (--today defaults to the current date). A database that
already holds patients or therapists is refused; --replace deletes the earlier demo data first. Example:

    python -m jobs.seed_demo --therapists 600 --patients 60 --today 2026-03-02 --replace
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from core import clock
from core.config import get_settings
from core.db import migrate, refresh_statistics, session_scope
from core.demo import seed, validate_counts
from jobs.cli import main_guard


def main() -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m jobs.seed_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=settings.demo_therapists, help="default: DEMO_THERAPISTS")
    parser.add_argument("--patients", type=int, default=settings.demo_patients, help="default: DEMO_PATIENTS")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--today", type=_day, help="the day the history leads up to, YYYY-MM-DD (default: today)")
    parser.add_argument("--replace", action="store_true", help="delete earlier demo data first")
    args = parser.parse_args()
    validate_counts(therapists=args.therapists, patients=args.patients)  # before the database is touched
    today = args.today or clock.today()
    started = time.monotonic()
    migrate()  # a fresh database works too
    with session_scope() as session:
        counts = seed(session, therapists=args.therapists, patients=args.patients, seed=args.seed, today=today,
                      replace=args.replace)  # fmt: skip
    refresh_statistics()  # the planner needs statistics after a bulk load (see core.db.refresh_statistics)
    print(f"demo data seeded (seed {args.seed}, today {today}) in {time.monotonic() - started:.1f} s:")
    for table, count in counts.items():
        print(f"  {table:<14}{count:>8}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD, e.g. 2026-03-02") from None


if __name__ == "__main__":
    main_guard(main)
