"""Back up the database now: ``python -m jobs.backup [--dry-run] [--json]``.

Writes a ``pg_dump`` custom-format file to DATA_DIR/backups (0600), checks it by listing it with
``pg_restore --list``, and deletes all but the newest BACKUP_KEEP. Runs through the job runner (a
``job_run`` row; never overlapping the nightly run). ``--dry-run`` lists what exists and writes nothing.
"""

from __future__ import annotations

import argparse
import json

from jobs.cli import exit_code, main_guard, run_by_hand


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.backup", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list the existing backups, write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    run = run_by_hand("backup", dry_run=args.dry_run)
    counts = run.counts or {}
    if args.json:
        print(json.dumps({"job": "backup", "status": run.status.value, "counts": counts, "error": run.error}))
    elif args.dry_run:
        print(f"backup (dry run): {counts.get('existing', 0)} backups in DATA_DIR/backups, newest "
              f"{counts.get('newest') or '-'}; nothing written")  # fmt: skip
    elif run.status.value == "succeeded":
        print(f"backup: {counts.get('file')} ({counts.get('size_bytes', 0):,} bytes, {counts.get('entries', 0)} "
              f"objects listed), {counts.get('deleted', 0)} old backups deleted")  # fmt: skip
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
