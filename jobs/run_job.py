"""Run one registered job now, by hand: ``python -m jobs.run_job heartbeat [--dry-run]``.

``python -m jobs.run_job --list`` shows the known jobs and their schedules.
"""

from __future__ import annotations

import argparse
import json

from core.config import get_settings
from core.operations import registry, runner, schedule
from jobs.cli import main_guard


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
    run = runner.run_job(args.job, triggered_by="cli", dry_run=args.dry_run)
    print(json.dumps({"job": run.job_name, "status": run.status.value, "counts": run.counts, "error": run.error}))
    return 0 if run.status.value in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
