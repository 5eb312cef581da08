"""Run the registered jobs on their timetable: ``python -m jobs.scheduler``.

Schedules are cron expressions (defaults in core.operations.registry, overrides in JOB_SCHEDULES).
Each run takes a PostgreSQL advisory lock, so two schedulers never run the same job at once.
``--plugin MODULE`` imports a module that registers extra jobs (used by tests); ``--only a,b``
restricts the scheduler to some jobs. Before the first job it maps every model and imports every job
in the main thread, and closes runs left 'running' by a scheduler that died. A scheduler that cannot
run jobs (a model cannot be mapped, or a job broke the ORM of the process) logs CRITICAL and exits with
code 3, so that its supervisor restarts it; SIGTERM/SIGINT stop it after the running jobs (exit 0).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from core.config import get_settings
from core.db import get_engine, models
from core.operations import registry, runner, schedule
from jobs.cli import main_guard

_log = logging.getLogger("jobs.scheduler")
EXIT_CANNOT_RUN_JOBS = 3  # not 2 (bad input): the supervisor restarts a scheduler that exits like this


class Stop:
    """Why the scheduler stops: a signal (exit 0) or a process that can no longer run jobs (exit 3)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.fatal: str | None = None

    def request(self, fatal: str | None = None) -> None:
        if fatal and not self.fatal:
            self.fatal = fatal
        self.event.set()


def prepare(names: list[str]) -> str | None:
    """Map every model and import every job in this (main) thread; return why jobs cannot run, or None.

    Job threads must never be the first to import a model module or configure the mappers: one thread
    configuring while another imports breaks every mapper of the process for good (see core.db.models).
    """
    try:
        models.configure()
        for name in names:
            registry.get(name).function()
    except Exception as exc:  # any of them: it is the reason the scheduler cannot start
        return f"{type(exc).__name__}: {exc}"
    return None


def run_scheduled(name: str, engine, stop: Stop) -> None:
    """Run one job; stop the scheduler if the process can no longer run jobs (its ORM is broken)."""
    try:
        runner.run_job(name, engine=engine)
    except Exception:  # the runner records a failing job itself; this is the runner failing
        _log.exception("job %s could not be run", name)
    broken = models.mapping_error()
    if broken:
        stop.request(f"job {name} left the ORM of this process unusable: {broken}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", action="append", default=[], help="module that registers extra jobs")
    parser.add_argument("--only", help="comma-separated job names")
    args = parser.parse_args()
    for module in args.plugin:
        importlib.import_module(module)
    settings = get_settings()
    crons = schedule.schedules(settings.job_schedules)
    names = args.only.split(",") if args.only else list(crons)
    for name in names:
        registry.get(name)  # unknown name -> clear error before starting
    problem = prepare(names)
    if problem:
        _log.critical("scheduler cannot run jobs, exiting so that it is restarted: %s", problem)
        return EXIT_CANNOT_RUN_JOBS
    engine = get_engine()
    closed = runner.close_abandoned_runs(engine)
    if closed:
        _log.warning("closed %d job run(s) left running by a process that died", closed)
    stop = Stop()
    executors = {"default": ThreadPoolExecutor(max_workers=4)}
    scheduler = BackgroundScheduler(timezone=settings.timezone, executors=executors)
    for name in names:
        scheduler.add_job(
            run_scheduled,
            trigger=schedule.trigger_for(crons[name], settings.timezone),
            args=[name, engine, stop],
            id=name,
            max_instances=1,  # in-process guard; the advisory lock guards across processes
            coalesce=True,
            misfire_grace_time=60,
        )
        _log.info("scheduled %s at '%s'", name, crons[name])

    def on_signal(signum, frame):
        _log.info("stopping scheduler (signal %s)", signum)
        stop.request()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    print(f"scheduler running {len(names)} job(s): {', '.join(names)}", flush=True)
    stop.event.wait()
    # shut down here, in the main thread, never inside a signal handler: the handler may interrupt the
    # scheduler's own loop halfway through (it crashed with JobLookupError that way)
    scheduler.shutdown(wait=not stop.fatal)
    if stop.fatal:
        _log.critical("scheduler cannot run jobs, exiting so that it is restarted: %s", stop.fatal)
        return EXIT_CANNOT_RUN_JOBS
    return 0


if __name__ == "__main__":
    main_guard(main)
