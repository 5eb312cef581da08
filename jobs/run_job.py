"""Run one registered job now, by hand: ``python -m jobs.run_job heartbeat [--dry-run]``.

``python -m jobs.run_job --list`` shows the known jobs and their schedules. The run is recorded in
``job_run`` (triggered_by "cli") and takes the job's lock, like a scheduled run; exit code 1 if it failed.
"""

from __future__ import annotations

import argparse

from core.config import get_settings
from core.operations import registry, schedule
from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", nargs="?")
    parser.add_argument("--dry-run", action="store_true", help="run but roll back every change")
    parser.add_argument("--list", action="store_true", help="list the known jobs")
    args = parser.parse_args()
    if args.list or not args.job:
        crons = schedule.schedules(get_settings().job_schedules)
        for job in registry.get_all():
            print(f"{job.name:<16} {crons[job.name]:<16} {job.description}")
        return 0
    run = run_by_hand(args.job, dry_run=args.dry_run)
    print(run_json(run, counts=run.counts))
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
