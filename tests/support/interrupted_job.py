"""A job interrupted by Ctrl-C, registered only by tests."""

from core.operations import registry


def interrupted(session, *, now, dry_run=False):
    raise KeyboardInterrupt


registry.register("interrupted", "tests.support.interrupted_job:interrupted", cron="0 0 1 1 *",
                  description="Interrupted by Ctrl-C (tests).")  # fmt: skip
