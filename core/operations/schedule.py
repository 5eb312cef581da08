"""Parse cron expressions for jobs: 5 fields (minute first) or 6 fields (second first).

Example: ``trigger_for("*/5 * * * *", "Europe/Berlin")`` -> an APScheduler CronTrigger
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from core.errors import ConfigError
from core.operations import registry


def trigger_for(expression: str, timezone: str) -> CronTrigger:
    """Return a CronTrigger or raise ConfigError naming the expression and an example."""
    fields = expression.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=timezone)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                               day_of_week=dow, timezone=timezone)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(
            f"Schedule '{expression}' is not a valid cron expression ({exc}); e.g. '*/5 * * * *'"
        ) from None
    raise ConfigError(f"Schedule '{expression}' needs 5 fields (minute hour day month weekday), e.g. '*/5 * * * *'")


def schedules(overrides: dict[str, str]) -> dict[str, str]:
    """Return the cron expression per job: defaults from the registry, overridden by JOB_SCHEDULES."""
    unknown = set(overrides) - {job.name for job in registry.get_all()}
    if unknown:
        known = ", ".join(job.name for job in registry.get_all())
        raise ConfigError(f"Setting JOB_SCHEDULES names unknown job(s) {sorted(unknown)}; known jobs: {known}")
    return {job.name: overrides.get(job.name, job.cron) for job in registry.get_all()}


def next_run(expression: str, timezone: str, now: datetime) -> datetime | None:
    """Return when a job with this schedule runs next after ``now``."""
    return trigger_for(expression, timezone).get_next_fire_time(None, now)
