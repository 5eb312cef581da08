"""The sending window and the retry backoff are pure functions of ``now``: table tests under a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.communication.sender import backoff_delay
from core.communication.window import next_opening, parse_window, state
from core.errors import ValidationError

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT = "Mon-Fri 08:00-18:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("spec", "moment", "is_open", "reason", "opens_at"),
    [
        # a Thursday morning inside the default window
        (DEFAULT, "2026-11-26T09:30", True, "open", None),
        # the first minute is open, the end is exclusive
        (DEFAULT, "2026-11-26T08:00", True, "open", None),
        (DEFAULT, "2026-11-26T18:00", False, "outside_hours", "2026-11-27T08:00"),
        # evening: opens next morning
        (DEFAULT, "2026-11-26T21:15", False, "outside_hours", "2026-11-27T08:00"),
        # early morning: opens the same day
        (DEFAULT, "2026-11-26T06:59", False, "outside_hours", "2026-11-26T08:00"),
        # Friday evening: opens Monday
        (DEFAULT, "2026-11-27T18:30", False, "outside_hours", "2026-11-30T08:00"),
        # Saturday and Sunday are closed days
        (DEFAULT, "2026-11-28T10:00", False, "closed_day", "2026-11-30T08:00"),
        (DEFAULT, "2026-11-29T23:59", False, "closed_day", "2026-11-30T08:00"),
        # Christmas Day 2026 is a Friday, a national holiday; Saturday, Sunday follow: opens Monday 28th
        (DEFAULT, "2026-12-25T10:00", False, "holiday", "2026-12-28T08:00"),
        # Christmas Eve is no public holiday
        (DEFAULT, "2026-12-24T10:00", True, "open", None),
        # German Unity Day 2026 falls on a Saturday: a window open every day is still closed then
        ("Mon-Sun 00:00-24:00", "2026-10-03T12:00", False, "holiday", "2026-10-04T00:00"),
        # ... unless holidays are switched off
        ("Mon-Sun 00:00-24:00 holidays=none", "2026-10-03T12:00", True, "open", None),
        # Epiphany is a holiday in Bavaria only
        ("Mon-Fri 08:00-18:00 holidays=DE-BY", "2026-01-06T10:00", False, "holiday", "2026-01-07T08:00"),
        (DEFAULT, "2026-01-06T10:00", True, "open", None),
        # two ranges: the lunch break is closed, the afternoon opens at 13:00
        ("Mon-Fri 08:00-12:00; Mon-Thu 13:00-17:00", "2026-11-26T12:30", False, "outside_hours", "2026-11-26T13:00"),
        # ... and Friday has no afternoon: opens Monday
        ("Mon-Fri 08:00-12:00; Mon-Thu 13:00-17:00", "2026-11-27T12:30", False, "outside_hours", "2026-11-30T08:00"),
        # a list of days
        ("Mon,Wed 09:00-10:00", "2026-11-24T09:30", False, "closed_day", "2026-11-25T09:00"),
    ],
)
def test_window_state__open_reason_and_next_opening(spec, moment, is_open, reason, opens_at):
    result = state(parse_window(spec), at(moment), timezone="Europe/Berlin")
    assert (result.open, result.reason) == (is_open, reason)
    assert result.opens_at == (at(opens_at) if opens_at else None)


def test_window_state__uses_the_local_timezone_for_utc_input():
    # 17:30 UTC is 18:30 in Berlin in winter: closed; 07:30 UTC is 08:30 in Berlin: open
    window = parse_window(DEFAULT)
    assert not state(window, datetime(2026, 11, 26, 17, 30, tzinfo=UTC), timezone="Europe/Berlin").open
    assert state(window, datetime(2026, 11, 26, 7, 30, tzinfo=UTC), timezone="Europe/Berlin").open


def test_window_state__names_the_holiday():
    result = state(parse_window(DEFAULT), at("2026-12-25T10:00"), timezone="Europe/Berlin")
    assert result.holiday == "Erster Weihnachtstag"


def test_next_opening__is_now_when_open():
    moment = at("2026-11-26T10:00")
    assert next_opening(parse_window(DEFAULT), moment, timezone="Europe/Berlin") == moment


@pytest.mark.parametrize(
    "spec",
    [
        "",  # nothing given
        "Mo-Fr 08:00-18:00",  # German day abbreviations are not the syntax
        "Mon-Fri 8-18",  # minutes are required
        "Mon-Fri 18:00-08:00",  # ends before it starts
        "Fri-Mon 08:00-18:00",  # spans run forwards
        "Mon-Fri 08:00-25:00",  # past midnight
        "Mon-Fri 08:00-18:00 holidays=FR",  # only German holidays
        "Mon-Fri 08:00-18:00 holidays=DE-XX",  # no such state
    ],
)
def test_parse_window__rejects_bad_specs_naming_the_setting(spec):
    with pytest.raises(ValidationError) as error:
        parse_window(spec)
    assert error.value.field == "SEND_WINDOW"
    assert "Mon-Fri 08:00-18:00" in str(error.value)  # a valid example


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [
        (1, 1),  # first failure: one minute
        (2, 2),
        (3, 4),
        (5, 16),
        (7, 64),
        (8, 120),  # capped at two hours
        (50, 120),  # no overflow for many attempts
    ],
)
def test_backoff_delay__doubles_up_to_the_cap(attempts, minutes):
    assert backoff_delay(attempts) == timedelta(minutes=minutes)


def test_backoff_delay__rejects_zero_attempts():
    with pytest.raises(ValidationError):
        backoff_delay(0)
