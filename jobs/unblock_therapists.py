"""Lift therapist blocks whose until-date has come: ``python -m jobs.unblock_therapists [--dry-run]``.

The scheduler runs this hourly (job ``unblock_therapists``); by hand it runs through the same job runner,
so the run is recorded in ``job_run`` and never overlaps a scheduled one.
"""

from __future__ import annotations

import argparse
import json

from core.operations import runner
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.unblock_therapists", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report what would be unblocked, change nothing")
    args = parser.parse_args()
    run = runner.run_job("unblock_therapists", triggered_by="cli", dry_run=args.dry_run)
    print(json.dumps({"job": run.job_name, "status": run.status.value, "counts": run.counts, "error": run.error}))
    return 0 if run.status.value in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
