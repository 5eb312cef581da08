"""A job that sleeps, registered only by tests (``python -m jobs.scheduler --plugin tests.support.sleepy_job``)."""

import time

from core.operations import registry

SLEEP_SECONDS = 1.5


def sleepy(session, *, now, dry_run=False):
    time.sleep(SLEEP_SECONDS)
    return {"slept": SLEEP_SECONDS}


def failing(session, *, now, dry_run=False):
    raise RuntimeError("disk full (simulated)")


registry.register("sleepy", "tests.support.sleepy_job:sleepy", cron="* * * * * *", description="Sleeps (tests).")
registry.register("failing", "tests.support.sleepy_job:failing", cron="0 0 1 1 *", description="Fails (tests).")
