"""Import therapists from saved 116117 search answers and exports: ``python -m jobs.import_directory FILE...``.

Files are read streaming, matched against the therapists we hold and written in one transaction (or, with
``--dry-run``, only previewed). CSV/Excel files use the column mapping remembered for their layout (set it
once on the Import page) or, for a layout never mapped, the mapping guessed from the header names. A file
that cannot be read stops the import before anything is written (exit 2); rejected entries are listed.
"""

from __future__ import annotations

import argparse
import json
import sys

from core import clock
from core.db import session_scope
from core.directory import service as directory
from core.directory.reading import Source
from jobs.cli import CLI_ACTOR, main_guard

LABELS = ("entries", "new", "changed", "unchanged", "conflicts", "review", "not_seen", "inactive", "back", "rejected",
          "warnings")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.import_directory", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="saved search answer (.json) or export (.csv, .xlsx)")
    parser.add_argument("--dry-run", action="store_true", help="preview: report what would change, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args()
    sources = [Source.from_path(path) for path in args.files]
    today = clock.today()
    with session_scope() as session:
        if args.dry_run:
            report, import_id = directory.preview(session, sources=sources, today=today).report, None
        else:
            record = directory.commit(session, sources=sources, actor=CLI_ACTOR, today=today)
            report, import_id = record.report, record.id
    if args.json:
        print(json.dumps({"import_id": import_id, "dry_run": args.dry_run, **report}, default=str, ensure_ascii=False))
    else:
        counts = report["counts"]
        head = "preview (nothing written)" if args.dry_run else f"import #{import_id} committed"
        print(f"{head}: " + ", ".join(f"{label} {counts[label]}" for label in LABELS))
        for problem in report["problems"]:
            where = ", ".join(str(p) for p in (problem["file"], problem["line"] and f"line {problem['line']}",
                                                problem["entry"] and f"entry {problem['entry']}") if p)  # fmt: skip
            print(f"{problem['severity']}: {where}, field {problem['field']}: {problem['message']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    main_guard(main)
