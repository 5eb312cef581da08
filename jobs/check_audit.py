"""Check the audit log's hash chain: ``python -m jobs.check_audit [--dry-run]``.

Exits 0 when every row is intact, 1 with a message naming the first altered, deleted or moved row.
The scheduler runs it nightly (job ``check_audit``); by hand it runs through the same job runner, so the
run is recorded in ``job_run`` and shown on the status and audit pages.
"""

from __future__ import annotations

import argparse
import json
import sys

import core.db.models  # noqa: F401 - every mapped table: the run's audit row refers to staff_user
from core.operations import runner
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.check_audit", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="check only; do not record the head as checked")
    args = parser.parse_args()
    run = runner.run_job("check_audit", triggered_by="cli", dry_run=args.dry_run)
    print(json.dumps({"job": run.job_name, "status": run.status.value, "counts": run.counts}))
    if run.status.value == "failed":
        problem = (run.error or "").splitlines()[0].removeprefix("JobError: ")
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0 if run.status.value in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
