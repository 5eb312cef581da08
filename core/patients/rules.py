"""Pure rules about patients and searches: state machines, pre-qualification, availability.

No session and no clock here: callers pass ``today``. Example:

    check_transition("search", SearchStatus.ACTIVE, SearchStatus.PAUSED)   # fine
    weekly_hours([{"weekday": 0, "start": "08:00", "end": "12:30"}])        # 4.5
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from core.errors import IllegalTransition, ValidationError
from core.messages import Message, status, term, words
from core.patients.models import PatientStatus, SearchStatus, SettingWish

# DESIGN 3.1. Side exits: a cancelled search or an aborted therapy may be followed by a new search.
PATIENT_TRANSITIONS: dict[PatientStatus, set[PatientStatus]] = {
    PatientStatus.NEW: {PatientStatus.SEARCHING, PatientStatus.SEARCH_CANCELLED},
    PatientStatus.SEARCHING: {PatientStatus.IN_THERAPY, PatientStatus.SEARCH_CANCELLED},
    PatientStatus.IN_THERAPY: {PatientStatus.THERAPY_FINISHED, PatientStatus.THERAPY_ABORTED},
    PatientStatus.THERAPY_FINISHED: set(),
    PatientStatus.SEARCH_CANCELLED: {PatientStatus.SEARCHING},
    PatientStatus.THERAPY_ABORTED: {PatientStatus.SEARCHING},
}
SEARCH_TRANSITIONS: dict[SearchStatus, set[SearchStatus]] = {
    SearchStatus.ACTIVE: {SearchStatus.PAUSED, SearchStatus.SUCCESSFUL, SearchStatus.CANCELLED},
    SearchStatus.PAUSED: {SearchStatus.ACTIVE, SearchStatus.CANCELLED},
    SearchStatus.SUCCESSFUL: set(),
    SearchStatus.CANCELLED: set(),
}

TWO_YEAR_RULE_DAYS = 2 * 365 + 1  # Psychotherapie-Richtlinie: a new therapy 2 years after the last one ended
MIN_WEEKLY_HOURS = {SettingWish.INDIVIDUAL: 20.0, SettingWish.GROUP: 10.0, SettingWish.EITHER: 10.0}
MAX_AGE_YEARS = 110


def check_transition(kind: str, current: Any, target: Any) -> None:
    """Raise IllegalTransition naming the allowed targets if ``current -> target`` is not allowed."""
    table = PATIENT_TRANSITIONS if kind == "patient" else SEARCH_TRANSITIONS
    allowed = table[current]
    if target not in allowed:
        states = [status(kind, s) for s in sorted(allowed, key=lambda s: s.value)]
        options = words(states) if states else term("list.final_state", "none (final state)")
        raise IllegalTransition(
            Message(
                f"transition.{kind}",
                "A {kind} in state '{current}' cannot become '{target}'; allowed: {allowed}",
                kind=kind,
                current=status(kind, current),
                target=status(kind, target),
                allowed=options,
            )
        )


def age_on(birth_date: date, today: date) -> int:
    """Return completed years of age on ``today``."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def parse_clock(value: str, *, field: str) -> time | None:
    """Parse 'HH:MM' (24:00 allowed as end of day, returned as None)."""
    try:
        hours, minutes = (int(part) for part in value.strip().split(":"))
    except ValueError:
        raise ValidationError(
            Message("validation.time_format", "Time '{value}' must look like HH:MM, e.g. 08:30", value=value),
            field=field,
        ) from None
    if (hours, minutes) == (24, 0):
        return None
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValidationError(
            Message(
                "validation.time_of_day",
                "Time '{value}' is not a time of day; use 00:00 to 24:00, e.g. 17:45",
                value=value,
            ),
            field=field,
        )
    return time(hours, minutes)


def _minutes(value: str, *, field: str) -> int:
    parsed = parse_clock(value, field=field)
    return 24 * 60 if parsed is None else parsed.hour * 60 + parsed.minute


WEEKDAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def _day(weekday: int) -> Message:
    return term(f"weekday.short.{weekday}", WEEKDAYS_DE[weekday])


DAY_MINUTES = 24 * 60
# A window that ends "before" it starts runs over midnight only if short: 12:00-08:00 is a typo for
# 08:00-12:00, not 20 hours of availability
MAX_OVERNIGHT_MINUTES = 12 * 60


def normalise_availability(windows: list[dict[str, Any]], *, field: str = "availability") -> list[dict[str, Any]]:
    """Validate weekly windows and return them sorted as {"weekday", "start", "end"} with HH:MM strings.

    Raises ValidationError when a window is empty or reversed, outside the day, or overlaps another.
    """
    cleaned = []
    for window in windows:
        weekday = window.get("weekday")
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError(
                Message(
                    "validation.weekday", "Weekday '{weekday}' must be 0 (Monday) to 6 (Sunday)", weekday=str(weekday)
                ),
                field=field,
            )
        start = _minutes(str(window.get("start", "")), field=field)
        end = _minutes(str(window.get("end", "")), field=field)
        if end < start and start - end >= DAY_MINUTES - MAX_OVERNIGHT_MINUTES:
            # over midnight (a late shift: Mo 23:00-01:00): the rest belongs to the next day
            cleaned.append((weekday, start, DAY_MINUTES))
            if end:  # 23:00-00:00 ends at midnight
                cleaned.append(((weekday + 1) % 7, 0, end))
            continue
        if start >= end:
            raise ValidationError(
                Message(
                    "validation.window_reversed",
                    "Window {day} {start}-{end} ends before it starts; "
                    "e.g. 08:00-12:00 (a window over midnight, such as 23:00-01:00, may last up to 12 hours)",
                    day=_day(weekday),
                    start=str(window["start"]),
                    end=str(window["end"]),
                ),
                field=field,
            )
        cleaned.append((weekday, start, end))
    cleaned.sort()
    for (day_a, start_a, end_a), (day_b, start_b, _end_b) in itertools.pairwise(cleaned):
        if day_a == day_b and start_b < end_a:
            raise ValidationError(
                Message(
                    "validation.windows_overlap",
                    "Windows on {day} overlap ({start}-{end} and from {other}); merge them into one window",
                    day=_day(day_a),
                    start=_fmt(start_a),
                    end=_fmt(end_a),
                    other=_fmt(start_b),
                ),
                field=field,
            )
    return [{"weekday": day, "start": _fmt(start), "end": _fmt(end)} for day, start, end in cleaned]


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekly_hours(windows: list[dict[str, Any]]) -> float:
    """Return the hours per week covered by normalised windows."""
    total = sum(_minutes(w["end"], field="availability") - _minutes(w["start"], field="availability") for w in windows)
    return round(total / 60, 2)


@dataclass(frozen=True)
class Requirement:
    code: str  # stable, for translation: consent_health, consent_share, insurance, two_year_rule, availability
    message: str  # a core.messages.Message "blocker.<code>": English for logs, translated by the UI


def prequalify(
    *,
    has_health_consent: bool,
    has_share_consent: bool,
    insurance_type: str | None,
    previous_therapy_end: date | None,
    two_year_exception: str | None,
    weekly_hours_available: float,
    setting_wish: SettingWish,
    today: date,
    min_hours: dict[SettingWish, float] | None = None,
) -> list[Requirement]:
    """Return every unmet requirement for starting a search (empty list = qualified)."""
    unmet = []
    if not has_health_consent:
        unmet.append(
            Requirement(
                "consent_health",
                Message("blocker.consent_health", "Consent to the processing of health data is missing"),
            )
        )
    if not has_share_consent:
        unmet.append(
            Requirement(
                "consent_share",
                Message("blocker.consent_share", "Consent to share a pseudonymised profile with therapists is missing"),
            )
        )
    if not insurance_type:
        unmet.append(
            Requirement(
                "insurance",
                Message("blocker.insurance", "Insurance is missing (statutory, private, subsidy or self-pay)"),
            )
        )
    if previous_therapy_end is not None and not (two_year_exception or "").strip():
        days = (today - previous_therapy_end).days
        if days < TWO_YEAR_RULE_DAYS:
            eligible = previous_therapy_end.replace(year=previous_therapy_end.year + 2)
            unmet.append(
                Requirement(
                    "two_year_rule",
                    Message(
                        "blocker.two_year_rule",
                        "The last therapy ended on {ended:%d.%m.%Y}, less than 2 years ago "
                        "(possible from {eligible:%d.%m.%Y}); note an exception if one applies",
                        ended=previous_therapy_end,
                        eligible=eligible,
                    ),
                )
            )
    needed = (min_hours or MIN_WEEKLY_HOURS)[SettingWish(setting_wish)]
    if weekly_hours_available < needed:
        unmet.append(
            Requirement(
                "availability",
                Message(
                    "blocker.availability",
                    "Weekly availability is {hours:g} h; at least {needed:g} h are needed",
                    hours=round(float(weekly_hours_available), 1),
                    needed=float(needed),
                ),
            )
        )
    return unmet


def parse_day_windows(weekday: int, text: str) -> list[dict[str, Any]]:
    """Parse '08:00-12:00, 15-19' for one weekday into windows (validated later by normalise_availability)."""
    windows = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        pieces = [p.strip() for p in part.replace("–", "-").split("-")]
        if len(pieces) != 2 or not all(pieces):
            raise ValidationError(
                Message(
                    "validation.window_text",
                    "{day}: '{part}' is not a time window; write it like 08:00-12:00",
                    day=_day(weekday),
                    part=part,
                ),
                field="availability",
            )
        start, end = (p if ":" in p else f"{p}:00" for p in pieces)
        windows.append({"weekday": weekday, "start": start, "end": end})
    return windows


def format_day_windows(windows: list[dict[str, Any]], weekday: int) -> str:
    """Return one weekday's windows as '08:00-12:00, 15:00-19:00' (the inverse of parse_day_windows)."""
    return ", ".join(f"{w['start']}-{w['end']}" for w in windows if w["weekday"] == weekday)
