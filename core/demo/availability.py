"""Weekly availability windows of patients: non-overlapping, on a half-hour grid, hours summed."""

from __future__ import annotations

import random
from typing import Any

Window = dict[str, Any]  # {"weekday": 0..6, "start": "HH:MM", "end": "HH:MM"}

EARLIEST = 7 * 2  # half hours: 07:00
LATEST = 21 * 2  # 21:00


def draw_windows(rng: random.Random, *, flexible: bool) -> list[Window]:
    """Return availability windows; ``flexible`` people have more days and longer windows.

    Example: ``[{"weekday": 0, "start": "08:00", "end": "12:30"}, ...]``
    """
    days = rng.sample(range(5), rng.randint(4, 5) if flexible else rng.randint(2, 3))
    if rng.random() < 0.1:
        days.append(5)  # some people can only come on Saturdays as well
    windows: list[Window] = []
    for day in sorted(days):
        if flexible and rng.random() < 0.5:
            start = rng.randint(EARLIEST, 10 * 2)
            end = min(LATEST, start + rng.randint(8, 20))
            spans = [(start, end)]
        elif rng.random() < 0.4:
            first_start = rng.randint(EARLIEST, 9 * 2)
            first_end = first_start + rng.randint(4, 8)
            second_start = first_end + rng.randint(2, 4)  # a gap: lunch, school run, work
            spans = [(first_start, first_end), (second_start, min(LATEST, second_start + rng.randint(4, 8)))]
        else:
            start = rng.randint(EARLIEST, 16 * 2)
            spans = [(start, min(LATEST, start + rng.randint(4, 10)))]
        windows.extend({"weekday": day, "start": _clock(a), "end": _clock(b)} for a, b in spans)
    return windows


def weekly_hours(windows: list[Window]) -> float:
    """Return the hours per week the windows cover, e.g. 08:00-12:30 on one day -> 4.5."""
    minutes = sum(_minutes(w["end"]) - _minutes(w["start"]) for w in windows)
    return round(minutes / 60, 2)


def _clock(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
