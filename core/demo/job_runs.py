"""Job-run records for the demo's six months: matching rounds, mail sending, follow-ups, imports, exports."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from core.demo.history import RoundLog
from core.demo.markers import DEMO_ACTOR

Row = dict[str, Any]

FAILED_SHARE, SKIPPED_SHARE = 0.02, 0.01
DAILY_JOBS = {"warehouse_export": time(2, 0), "follow_up": time(6, 30), "send_emails": time(18, 0)}
IMPORT_TIME = time(3, 0)  # Sundays: the weekly 116117 import
ERRORS = {
    "warehouse_export": "OSError: [Errno 28] No space left on device: 'data/warehouse/inquiry_item.parquet'",
    "follow_up": "OperationalError: server closed the connection unexpectedly",
    "send_emails": "SMTPServerDisconnected: Connection unexpectedly closed",
    "import_therapists": "JobError: 116117 answered 429 Too Many Requests; retry later",
    "matching": "OperationalError: canceling statement due to statement timeout",
}


def job_run_rows(
    *,
    rng: random.Random,
    today: date,
    now: datetime,
    rounds: Sequence[RoundLog],
    emails: Sequence[Row],
    calls: Sequence[Row],
    imported: int,
) -> list[Row]:
    """Return job runs from the first matching round until ``now``, plus one mail run still going."""
    if not rounds:
        return []
    sent = sorted(row["sent_at"] for row in emails if row["sent_at"] is not None)
    reminders = sorted(row["created_at"] for row in emails if row["template"] == "reminder")
    call_plans = sorted(row["created_at"] for row in calls if row["attempt"] == 1)
    runs: list[tuple[datetime, str, dict[str, Any]]] = [
        (r.at, "matching", {"searches": r.searches, "inquiries": r.inquiries, "items": r.items}) for r in rounds
    ]
    day = rounds[0].at.date()
    while day <= today:
        for name, at_time in DAILY_JOBS.items():
            at = datetime.combine(day, at_time, now.tzinfo)
            if at > now:
                continue
            since = at - timedelta(days=1)
            counts = {
                "warehouse_export": {"tables": 9},
                "follow_up": {"reminders": _between(reminders, since, at), "calls": _between(call_plans, since, at)},
                "send_emails": {"sent": _between(sent, since, at)},
            }[name]
            runs.append((at, name, counts))
        if day.weekday() == 6:
            at = datetime.combine(day, IMPORT_TIME, now.tzinfo)
            runs.append(
                (
                    at,
                    "import_therapists",
                    {
                        "records": imported,
                        "new": rng.randint(0, 6),
                        "changed": rng.randint(5, 40),
                        "missing": rng.randint(0, 3),
                    },
                )
            )
        day += timedelta(days=1)
    runs.sort(key=lambda run: run[0])
    rows = [_row(rng, at, name, counts) for at, name, counts in runs]
    _show_rare_statuses(rows)
    rows.append(
        {
            "job_name": "send_emails",
            "status": "running",
            "started_at": now - timedelta(seconds=40),
            "finished_at": None,
            "counts": {},
            "error": None,
            "triggered_by": DEMO_ACTOR,
            "host": "demo-worker-1",
            "pid": rng.randint(2000, 60000),
        }
    )
    return [{"id": key, **row} for key, row in enumerate(rows, start=1)]


def _row(rng: random.Random, at: datetime, name: str, counts: dict[str, Any]) -> Row:
    draw = rng.random()
    status = "failed" if draw < FAILED_SHARE else "skipped" if draw < FAILED_SHARE + SKIPPED_SHARE else "succeeded"
    return {
        "job_name": name,
        "status": status,
        "started_at": at,
        "finished_at": at + timedelta(seconds=rng.randint(1, 90)),
        "counts": counts if status == "succeeded" else {},
        "error": ERRORS[name] if status == "failed" else "already running elsewhere" if status == "skipped" else None,
        "triggered_by": DEMO_ACTOR,
        "host": "demo-worker-1",
        "pid": rng.randint(2000, 60000),
    }


def _show_rare_statuses(rows: list[Row]) -> None:
    """Make sure a failed and a skipped run are visible when chance produced none."""
    exports = [row for row in rows if row["job_name"] == "warehouse_export" and row["status"] == "succeeded"]
    for status, row in zip(("failed", "skipped"), exports[:2], strict=False):
        if not any(r["status"] == status for r in rows):
            row.update(status=status, counts={})
            row["error"] = ERRORS["warehouse_export"] if status == "failed" else "already running elsewhere"


def _between(moments: list[datetime], start: datetime, end: datetime) -> int:
    return bisect_right(moments, end) - bisect_right(moments, start)
