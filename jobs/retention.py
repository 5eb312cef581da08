"""Anonymise closed cases after the retention period: ``python -m jobs.retention [--dry-run] [--json]``.

A case is due RETENTION_MONTHS (default 24) after its last search ended; it is anonymised like an Art. 17
erasure (statistics stay). ``--dry-run`` lists the due cases and changes nothing. The report names cases by
their pseudonymous reference only. Runs through the job runner, so it never overlaps the scheduled run.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from core.db import get_engine
from core.operations import runner
from core.patients import retention
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.retention", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list the due cases, change nothing")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args()
    now = datetime.now(UTC)
    if args.dry_run:  # reads only: the report itself is the result
        report = retention.run(get_engine(), now=now, dry_run=True)
        status, counts, details = "succeeded", report.counts(), report.as_dict()
    else:
        run = runner.run_job("retention", triggered_by="cli", now=now)
        status, counts, details = run.status.value, run.counts, {"error": run.error}
    if args.json:
        print(json.dumps({"job": "retention", "status": status, "counts": counts, "report": details}))
    else:
        print(f"retention ({status}): {counts.get('due', 0)} due (closed on or before {counts.get('cutoff')}), "
              f"{counts.get('anonymised', 0)} anonymised, {counts.get('failed', 0)} failed"
              + (" - dry run, nothing changed" if args.dry_run else ""))  # fmt: skip
        for case in details.get("due", []):
            print(f"  {case['reference']}  closed on {case['closed_on']}")
    return 0 if status in {"succeeded", "skipped"} else 1


if __name__ == "__main__":
    main_guard(main)
