"""Phone hours (Telefonsprechstunde): read what staff type, store one normal form, render it readably.

Staff write hours the way practices publish them; all of these mean the same:

    parse_phone_hours("Mo-Fr 9-10")
    parse_phone_hours("Montag bis Freitag 09:00 - 10:00 Uhr")
    parse_phone_hours("monday, tue, Mi, Do, Fr: 9-10")
    -> {"0": [["09:00", "10:00"]], "1": [["09:00", "10:00"]], ..., "4": [["09:00", "10:00"]]}

The normal form maps the weekday (0 = Monday, as a string: it is stored as JSON) to sorted, merged,
non-overlapping [start, end] pairs in "HH:MM". ``format_phone_hours`` renders it back as text that
``parse_phone_hours`` reads again ("Mo–Fr 09:00–10:00").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationError

PhoneHours = dict[str, list[list[str]]]

EXAMPLE = "Mo-Fr 9-10; Do 14:00-16:00"
DAY_WORDS: dict[str, int] = {
    word: day
    for day, words in enumerate(
        [
            ("mo", "mon", "montag", "monday"),
            ("di", "die", "dienstag", "tu", "tue", "tues", "tuesday"),
            ("mi", "mit", "mittwoch", "we", "wed", "wednesday"),
            ("do", "don", "donnerstag", "th", "thu", "thur", "thurs", "thursday"),
            ("fr", "fre", "fri", "freitag", "friday"),
            ("sa", "sam", "sat", "samstag", "sonnabend", "saturday"),
            ("so", "son", "sun", "su", "sonntag", "sunday"),
        ]
    )
    for word in words
}
DAY_LABELS = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
DASH_WORDS = {"bis", "to", "till", "until"}
SEPARATOR_WORDS = {"und", "and", "sowie", "uhr"}  # a stray "Uhr" after a range ("9-12 Uhr") is harmless
MINUTES_PER_DAY = 24 * 60

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t]+)
    | (?P<hard>[;\n\r|])
    | (?P<soft>[,/&+])
    | (?P<dash>[-–—])
    | (?P<time>\d{1,2}(?:[:.]\d{1,2})?)(?:\s*(?:uhr|h)\b)?
    | (?P<word>[a-zäöüß]+)\.?:?
    | (?P<colon>:)
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "hard", "soft", "dash", "time", "day"
    text: str
    value: Any = None


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(f"Phone hours: {message}; write e.g. '{EXAMPLE}'", field=field)


def _minutes(text: str, field: str) -> int:
    hour_text, _, minute_text = text.replace(".", ":").partition(":")
    hour, minute = int(hour_text), int(minute_text or 0)
    if len(minute_text) == 1:
        raise _fail(f"'{text}' needs two digits for the minutes", field)
    if hour > 23 or minute > 59:
        raise _fail(f"'{text}' is not a time of day (00:00 to 23:59)", field)
    return hour * 60 + minute


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _tokens(text: str, field: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            rest = text[position:].split()[0] if text[position:].split() else text[position:]
            raise _fail(f"could not read '{rest}'", field)
        position = match.end()
        kind = match.lastgroup
        part = match.group(0).strip()
        if kind in {"space", "colon"}:
            continue
        if kind == "word":
            word = match.group("word").lower()
            if word in DASH_WORDS:
                tokens.append(_Token("dash", part))
            elif word in SEPARATOR_WORDS:
                tokens.append(_Token("soft", part))
            elif word in DAY_WORDS:
                tokens.append(_Token("day", part, DAY_WORDS[word]))
            else:
                raise _fail(f"'{match.group('word')}' is not a weekday (Mo, Di, Mi, Do, Fr, Sa, So)", field)
        elif kind == "time":
            tokens.append(_Token("time", part, _minutes(match.group("time"), field)))
        else:
            tokens.append(_Token(kind, part))
    return tokens


def parse_phone_hours(text: str | None, *, field: str = "phone_hours") -> PhoneHours:
    """Return the normal form of phone hours written as text; raise ValidationError naming the bad part.

    Example: ``parse_phone_hours("Di 9-12, 14-15")`` -> ``{"1": [["09:00", "12:00"], ["14:00", "15:00"]]}``
    """
    tokens = _tokens(text or "", field)
    ranges: dict[int, list[tuple[int, int]]] = {}
    days: list[int] = []
    day_text = ""
    has_times = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1 : i + 3]
        if token.kind == "day":
            if has_times:  # a weekday after times starts the next group: "Mo 9-10, Di 11-12"
                days, day_text, has_times = [], "", False
            if len(following) == 2 and following[0].kind == "dash" and following[1].kind == "day":
                first, last = token.value, following[1].value
                if last < first:
                    raise _fail(f"'{token.text}-{following[1].text}' runs backwards", field)
                days.extend(range(first, last + 1))
                day_text = f"{token.text}-{following[1].text}"
                i += 3
                continue
            days.append(token.value)
            day_text = token.text
        elif token.kind == "time":
            if not (len(following) == 2 and following[0].kind == "dash" and following[1].kind == "time"):
                raise _fail(f"'{token.text}' has no end time", field)
            start, end = token.value, following[1].value
            span = f"{token.text}-{following[1].text}"
            if not days:
                raise _fail(f"'{span}' has no weekday before it", field)
            if end <= start:
                raise _fail(f"'{span}' ends before it starts", field)
            for day in days:
                ranges.setdefault(day, []).append((start, end))
            has_times = True
            i += 3
            continue
        elif token.kind == "hard":
            if days and not has_times:
                raise _fail(f"'{day_text}' has no hours after it", field)
            days, day_text, has_times = [], "", False
        elif token.kind == "dash":
            raise _fail(f"'{token.text}' stands where a weekday or a time was expected", field)
        i += 1
    if days and not has_times:
        raise _fail(f"'{day_text}' has no hours after it", field)
    return _normal_form(ranges)


def _normal_form(ranges: Mapping[int, list[tuple[int, int]]]) -> PhoneHours:
    """Sort each day's ranges and merge overlapping or touching ones."""
    hours: PhoneHours = {}
    for day in sorted(ranges):
        merged: list[list[int]] = []
        for start, end in sorted(ranges[day]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if merged:
            hours[str(day)] = [[_clock(start), _clock(end)] for start, end in merged]
    return hours


def normalise_phone_hours(value: str | Mapping[str, Any] | None, *, field: str = "phone_hours") -> PhoneHours:
    """Return the normal form of phone hours given as text or as a (possibly untidy) normal-form mapping."""
    if value is None:
        return {}
    if isinstance(value, str):
        return parse_phone_hours(value, field=field)
    ranges: dict[int, list[tuple[int, int]]] = {}
    for key, pairs in value.items():
        if str(key) not in {str(day) for day in range(7)}:
            raise _fail(f"weekday key '{key}' must be 0 (Monday) to 6 (Sunday)", field)
        for pair in pairs or []:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise _fail(f"'{pair}' must be a pair of times like ['09:00', '12:00']", field)
            start_text, end_text = (str(part) for part in pair)
            for part in (start_text, end_text):
                if not re.fullmatch(r"\d{1,2}[:.]\d{2}", part):
                    raise _fail(f"'{part}' is not a time like '09:00'", field)
            start, end = _minutes(start_text, field), _minutes(end_text, field)
            if end <= start:
                raise _fail(f"'{start_text}-{end_text}' ends before it starts", field)
            ranges.setdefault(int(key), []).append((start, end))
    return _normal_form(ranges)


def day_text(hours: Mapping[str, list[list[str]]], day: int) -> str:
    """Return one weekday's ranges as text, e.g. '09:00–12:00, 14:00–15:00' ('' when there are none)."""
    return ", ".join(f"{start}–{end}" for start, end in hours.get(str(day), []))


def format_phone_hours(hours: Mapping[str, list[list[str]]] | None, *, language: str = "de") -> str:
    """Return readable text of the normal form; consecutive days with equal hours are joined.

    Example: ``{"0": [["09:00", "10:00"]], "1": [["09:00", "10:00"]], "2": [["09:00", "10:00"]]}``
    -> "Mo–Mi 09:00–10:00"
    """
    labels = DAY_LABELS.get(language, DAY_LABELS["de"])
    parts: list[str] = []
    days = sorted(int(day) for day in (hours or {}) if (hours or {})[day])
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and hours[str(days[j + 1])] == hours[str(days[i])]:
            j += 1
        if j - i >= 2:
            label = f"{labels[days[i]]}–{labels[days[j]]}"
        else:
            label = ", ".join(labels[day] for day in days[i : j + 1])
        parts.append(f"{label} {day_text(hours, days[i])}")
        i = j + 1
    return "; ".join(parts)
