"""Practice phone hours (Telefonsprechstunde) and the 5-minute call slots inside them."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

PhoneHours = dict[str, list[list[str]]]  # {"0": [["09:00", "09:50"]]}, weekday 0 = Monday

CALL_SLOT = timedelta(minutes=5)  # DESIGN 3.2: calls are planned in 5-minute slots
DEFAULT_HOURS: PhoneHours = {str(day): [["09:00", "10:00"]] for day in range(5)}  # when a practice names none
_STARTS = ("08:00", "08:30", "09:00", "11:30", "12:00", "12:30", "13:00", "14:00")
_LENGTHS = (25, 50, 50, 60)  # minutes; most practices keep the 50-minute rhythm of a session


def draw_phone_hours(rng: random.Random) -> PhoneHours:
    """Return 1 to 5 weekdays with one or two short phone windows each."""
    days = sorted(rng.sample(range(5), rng.choice((1, 2, 2, 3, 3, 4, 5))))
    hours: PhoneHours = {}
    for day in days:
        start = _clock(rng.choice(_STARTS))
        windows = [_window(start, rng.choice(_LENGTHS))]
        if start < time(12, 0) and rng.random() < 0.2:
            windows.append(_window(time(16, 0), 50))
        hours[str(day)] = windows
    return hours


def next_call_slot(hours: PhoneHours, after: datetime) -> datetime:
    """Return the first 5-minute slot inside the phone hours at or after ``after``.

    Example: hours {"0": [["09:00", "09:50"]]}, after Monday 09:07 -> Monday 09:10.
    """
    hours = hours or DEFAULT_HOURS
    for offset in range(15):
        day = after.date() + timedelta(days=offset)
        for start_text, end_text in sorted(hours.get(str(day.weekday()), [])):
            start = datetime.combine(day, _clock(start_text), after.tzinfo)
            end = datetime.combine(day, _clock(end_text), after.tzinfo)
            slot = max(start, _round_up(after))
            if slot + CALL_SLOT <= end:
                return slot
    raise ValueError(f"phone hours {hours!r} have no slot within two weeks")


def _round_up(moment: datetime) -> datetime:
    minutes = moment.hour * 60 + moment.minute + (1 if moment.second or moment.microsecond else 0)
    rounded = -(-minutes // 5) * 5
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(minutes=rounded)


def _window(start: time, minutes: int) -> list[str]:
    end = (datetime.combine(datetime.min, start) + timedelta(minutes=minutes)).time()
    return [start.strftime("%H:%M"), end.strftime("%H:%M")]


def _clock(text: str) -> time:
    return time.fromisoformat(text)
