"""Build the reporting warehouse: ``python -m jobs.build_warehouse [--full] [--dry-run] [--json]``.

Extracts the operational tables into pseudonymised Parquet under DATA_DIR/warehouse/ (only the rows changed
since the published build, unless --full or the last full build is a week old), builds the dbt
models in sql/ with DuckDB, runs their tests (schema and reconciliation with PostgreSQL) and publishes the
build atomically; a failing check leaves the previous build in place and exits 1 naming the check. Runs
through the job runner, so it is recorded in ``job_run`` and never overlaps the nightly run.
"""

from __future__ import annotations

import argparse
import json
from functools import partial

from core.operations import runner
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.build_warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="extract every row again, not only the changed ones")
    parser.add_argument("--dry-run", action="store_true", help="extract, build and check, but do not publish")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    from core.warehouse.build import job

    run = runner.run_job(
        "build_warehouse", triggered_by="cli", dry_run=args.dry_run, function=partial(job, full=args.full)
    )
    summary = {"job": run.job_name, "status": run.status.value, "counts": run.counts, "error": run.error}
    if args.json:
        print(json.dumps(summary, default=str))
    elif run.error:
        print(f"warehouse build {run.status.value}: {run.error}")
    else:
        counts = run.counts or {}
        state = "published" if counts.get("published") else "checked (dry run, not published)"
        kind = "full" if counts.get("full") else "incremental"
        print(
            f"warehouse build {counts.get('build')} ({kind}) {state}: rows {counts.get('rows')}, copied "
            f"{counts.get('rows_copied')}, extract {counts.get('seconds_extract')} s, marts and tests "
            f"{counts.get('seconds_marts')} s"
        )
    return 0 if run.status.value in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
