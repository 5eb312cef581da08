"""Restore a backup: ``python -m jobs.restore FILE [--force] [--json]``.

Loads a dump written by ``python -m jobs.backup`` into the configured database in one transaction. The
database must be empty (for example a freshly created one, or a new DATA_DIR); one that holds tables is
refused unless ``--force``, which replaces everything in it. Stop the dashboards and the scheduler first.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.config import get_settings
from core.operations import backup
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.restore", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a .dump file from DATA_DIR/backups")
    parser.add_argument("--force", action="store_true", help="replace the contents of a database that is not empty")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    entries = backup.restore(settings=get_settings(), path=args.file, force=args.force)
    if args.json:
        print(json.dumps({"job": "restore", "status": "succeeded", "file": str(args.file), "entries": entries}))
    else:
        print(f"restore: {args.file.name} restored ({entries} objects)")
    return 0


if __name__ == "__main__":
    main_guard(main)
