"""Run the registered jobs on their timetable: ``python -m jobs.scheduler``.

Schedules are cron expressions (defaults in core.operations.registry, overrides in JOB_SCHEDULES).
Each run takes a PostgreSQL advisory lock, so two schedulers never run the same job at once.
``--plugin MODULE`` imports a module that registers extra jobs (used by tests); ``--only a,b``
restricts the scheduler to some jobs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from core.config import get_settings
from core.db import get_engine
from core.operations import registry, runner, schedule
from jobs.cli import main_guard

_log = logging.getLogger("jobs.scheduler")


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
    engine = get_engine()
    scheduler = BlockingScheduler(timezone=settings.timezone, executors={"default": ThreadPoolExecutor(max_workers=4)})
    for name in names:
        scheduler.add_job(
            runner.run_job,
            trigger=schedule.trigger_for(crons[name], settings.timezone),
            args=[name],
            kwargs={"engine": engine},
            id=name,
            max_instances=1,  # in-process guard; the advisory lock guards across processes
            coalesce=True,
            misfire_grace_time=60,
        )
        _log.info("scheduled %s at '%s'", name, crons[name])

    def stop(signum, frame):
        _log.info("stopping scheduler (signal %s)", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"scheduler running {len(names)} job(s): {', '.join(names)}", flush=True)
    scheduler.start()
    return 0


if __name__ == "__main__":
    main_guard(main)
