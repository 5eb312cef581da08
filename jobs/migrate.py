"""Apply the database migrations: ``python -m jobs.migrate``.

Uses DATABASE_URL, or starts the embedded server when it is unset. Safe to run from several processes
at once (an advisory lock serialises them).
"""

from __future__ import annotations

import argparse

from core.db import current_revision, get_engine, migrate
from core.db.session_helpers import load_reference_data
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    engine = get_engine()
    migrate(engine)
    load_reference_data(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


if __name__ == "__main__":
    main_guard(main)
