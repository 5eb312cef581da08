"""Publish the domain-event outbox to Kafka: ``python -m jobs.relay_events [--follow] [--dry-run] [--json]``.

Without ``--follow`` it drains the outbox once through the job runner (a ``job_run`` row, like the
scheduled minute job). With ``--follow`` it keeps publishing until SIGTERM/SIGINT, polling every second,
for near-real-time consumers. Off (and saying so) unless KAFKA_BOOTSTRAP is set. See core/events/relay.py.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from core.config import get_settings
from jobs.cli import exit_code, main_guard, run_by_hand


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.relay_events", description=__doc__.splitlines()[0])
    parser.add_argument("--follow", action="store_true", help="keep publishing until stopped (SIGTERM/SIGINT)")
    parser.add_argument("--poll-seconds", type=float, default=1.0, help="wait when the outbox is empty (--follow)")
    parser.add_argument("--dry-run", action="store_true", help="report the lag only, send nothing")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    if args.follow:
        from core.db import get_engine
        from core.events.relay import Relay

        if not get_settings().kafka_bootstrap:
            print("error: KAFKA_BOOTSTRAP is not set: the event relay is off", file=sys.stderr)
            return 2
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
        report = Relay(get_engine()).follow(poll_seconds=args.poll_seconds, stop=lambda: bool(stopping))
        print(json.dumps({"job": "relay_events", "follow": True, **report.counts()}))
        return 0
    run = run_by_hand("relay_events", dry_run=args.dry_run)
    counts = run.counts or {}
    if args.json:
        print(json.dumps({"job": "relay_events", "status": run.status.value, "counts": counts, "error": run.error},
                         default=str))  # fmt: skip
    elif not counts.get("enabled", True):
        print(f"relay_events: off (KAFKA_BOOTSTRAP unset); {counts.get('unpublished', 0)} events in the outbox")
    elif run.status.value == "succeeded":
        print(f"relay_events: {counts.get('published', counts.get('unpublished', 0))} events "
              f"{'published' if 'published' in counts else 'waiting'}, {counts.get('held', 0)} held")  # fmt: skip
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
