"""When mail may go out: weekday/time ranges in the local timezone, never on German public holidays.

Syntax of SEND_WINDOW (case-insensitive): one or more ranges separated by ";", each "<days> <HH:MM>-<HH:MM>",
where <days> is a day ("Sat"), a span ("Mon-Fri") or a list ("Mon,Wed,Fri"); the end may be 24:00. An
optional last token "holidays=DE" (the default: national holidays), "holidays=DE-BY" (national plus the
holidays of one state, ISO 3166-2 code) or "holidays=none" chooses the public holidays on which nothing goes.

Examples:
    "Mon-Fri 08:00-18:00"                         the default
    "Mon-Fri 08:00-12:00; Mon-Thu 13:00-17:00"    a lunch break, short Friday
    "Mon-Sun 00:00-24:00 holidays=none"           always open (tests, urgent setups)
    "Mon-Fri 08:00-18:00 holidays=DE-BY"          Bavaria's holidays too

Every function here is pure: ``now`` is a parameter (any timezone-aware datetime).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from core.errors import ValidationError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EXAMPLE = "Mon-Fri 08:00-18:00"
_RANGE = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_HOLIDAYS = re.compile(r"\s+holidays=(\S+)\s*$")
LOOKAHEAD_DAYS = 400  # how far next_opening searches (a window that never opens is reported as None)


@dataclass(frozen=True)
class Range:
    weekdays: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int  # minutes after midnight, exclusive; 1440 = midnight at the end of the day


@dataclass(frozen=True)
class SendWindow:
    ranges: tuple[Range, ...]
    holiday_region: str | None = "DE"  # "DE", "DE-BY", or None for no holidays


@dataclass(frozen=True)
class WindowState:
    open: bool
    reason: str  # "open", "holiday", "closed_day" or "outside_hours"
    holiday: str | None  # the holiday's name when reason == "holiday"
    opens_at: datetime | None  # next opening (in the window's timezone), None when open or never


def _error(spec: str, detail: str) -> ValidationError:
    return ValidationError(f"SEND_WINDOW {spec!r}: {detail}; use e.g. SEND_WINDOW={EXAMPLE!r}", field="SEND_WINDOW")


def _days(spec: str, text: str) -> frozenset[int]:
    result: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise _error(spec, f"unknown day in {part!r} (days are Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise _error(spec, f"day span {part!r} runs backwards")
        result.update(range(a, b + 1))
    return frozenset(result)


def parse_window(spec: str) -> SendWindow:
    """Parse SEND_WINDOW; raise ValidationError (field SEND_WINDOW) naming the bad part."""
    text = spec.strip().lower()
    region: str | None = "DE"
    match = _HOLIDAYS.search(text)
    if match:
        text = text[: match.start()]
        value = match.group(1)
        if value == "none":
            region = None
        elif re.fullmatch(r"de(-[a-z]{2})?", value):
            region = value.upper()
            if "-" in region and region.split("-")[1] not in holidays.Germany.subdivisions:
                raise _error(spec, f"unknown German state {region!r} (e.g. DE-BY, DE-NW)")
        else:
            raise _error(spec, f"holidays={value!r} is not DE, DE-<state> or none")
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        found = _RANGE.match(part)
        if not found:
            raise _error(spec, f"{part!r} is not '<days> HH:MM-HH:MM'")
        days, h1, m1, h2, m2 = found.groups()
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if int(m1) > 59 or int(m2) > 59 or start >= 1440 or end > 1440:
            raise _error(spec, f"time in {part!r} is not between 00:00 and 24:00")
        if end <= start:
            raise _error(spec, f"{part!r} ends before it starts")
        ranges.append(Range(weekdays=_days(spec, days), start=start, end=end))
    if not ranges:
        raise _error(spec, "no time range given")
    return SendWindow(ranges=tuple(ranges), holiday_region=region)


@lru_cache(maxsize=16)
def _calendar(region: str, year: int) -> holidays.HolidayBase:
    subdiv = region.split("-")[1] if "-" in region else None
    return holidays.Germany(subdiv=subdiv, years=year, language="de")


def holiday_name(window: SendWindow, day: date) -> str | None:
    """Return the public holiday's name on ``day`` for the window's region, or None."""
    if window.holiday_region is None:
        return None
    return _calendar(window.holiday_region, day.year).get(day)


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def state(window: SendWindow, now: datetime, *, timezone: str) -> WindowState:
    """Say whether mail may go out at ``now`` and, if not, why and when the window opens next."""
    local = now.astimezone(ZoneInfo(timezone))
    name = holiday_name(window, local.date())
    if name is None:
        minute = _minute(local)
        if any(local.weekday() in r.weekdays and r.start <= minute < r.end for r in window.ranges):
            return WindowState(open=True, reason="open", holiday=None, opens_at=None)
    if name is not None:
        reason = "holiday"
    elif any(local.weekday() in r.weekdays for r in window.ranges):
        reason = "outside_hours"
    else:
        reason = "closed_day"
    return WindowState(open=False, reason=reason, holiday=name, opens_at=next_opening(window, now, timezone=timezone))


def next_opening(window: SendWindow, now: datetime, *, timezone: str) -> datetime | None:
    """Return the first moment at or after ``now`` when the window is open (local time), or None."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for offset in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        if holiday_name(window, day) is not None:
            continue
        starts = []
        for r in window.ranges:
            if day.weekday() not in r.weekdays:
                continue
            if offset == 0:
                minute = _minute(local)
                if r.start <= minute < r.end:
                    return local
                if minute >= r.start:
                    continue
            starts.append(r.start)
        if starts:
            first = min(starts)
            return datetime.combine(day, time(first // 60, first % 60), tzinfo=zone)
    return None
