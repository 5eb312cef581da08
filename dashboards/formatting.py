"""Numbers, distances and dates in the user's locale (Babel): "6,4 km" and "01.12.2026" in German.

Pages format every number and date a person reads through these functions, never with f"{x:.1f}".

Example: number(6.43, digits=1) -> "6,4" (de) / "6.4" (en); day(date(2026, 12, 1)) -> "01.12.2026" (de)
"""

from __future__ import annotations

import math
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

LOCALES = {"de": "de_DE", "en": "en_GB"}


def _locale(language: str | None) -> str:
    if language is None:
        from dashboards.i18n import current_language

        language = current_language()
    return LOCALES.get(language, "de_DE")


def number(value: float | int | None, *, digits: int | None = None, language: str | None = None) -> str:
    """Return ``value`` with the locale's decimal sign; ``digits`` fixes the decimals (default: up to 2).

    Whole numbers below 10,000 are not grouped (years, counts): 2026 stays "2026", 12500 is "12.500".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits is None:
        pattern = "0" if isinstance(value, int) or float(value).is_integer() else "0.##"
    else:
        pattern = "0" + ("." + "0" * digits if digits else "")
    if abs(value) >= 10_000:
        pattern = "#,##" + pattern
    return format_decimal(value, format=pattern, locale=_locale(language))


def km(value: float | None, *, language: str | None = None) -> str:
    """Return a distance with one decimal: "6,4 km"."""
    return "—" if value is None or value != value else f"{number(value, digits=1, language=language)} km"


def percent(share: float | None, *, language: str | None = None) -> str:
    """Return a share 0..1 as a whole percentage: 0.153 -> "15 %"."""
    if share is None or share != share:
        return "—"
    return format_percent(share, format="0 %", locale=_locale(language))


def day(value: date | None, *, language: str | None = None) -> str:
    """Return a date in the locale's medium form: "01.12.2026" (de), "1 Dec 2026" (en)."""
    return "—" if value is None else format_date(value, format="medium", locale=_locale(language))


def moment(value: datetime | None, *, seconds: bool = False, language: str | None = None) -> str:
    """Return a date and time to the minute: "01.12.2026, 14:05" (de), "1 Dec 2026, 14:05" (en).

    ``seconds`` keeps the seconds (logs and mail catchers, where order within a minute matters). The value is
    shown as given: pass ``clock.local(...)`` for a stored UTC moment.
    """
    if value is None:
        return "—"
    text = format_datetime(value, format="medium", locale=_locale(language))
    return text if seconds else text.rsplit(":", 1)[0]


def clock_time(minutes: int) -> str:
    """Return minutes after midnight as "08:00" (1440 -> "24:00")."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday_span(days: frozenset[int] | set[int], *, language: str | None = None) -> str:
    """Return weekdays (0 = Monday) as runs of short names: {0,1,2,3,4} -> "Mo–Fr" (de), "Mon–Fri" (en)."""
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=_locale(language))
    short = [names[d].rstrip(".") for d in range(7)]
    runs, ordered = [], sorted(days)
    for day in ordered:
        if runs and day == runs[-1][1] + 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(short[a] if a == b else f"{short[a]}–{short[b]}" for a, b in runs)


def send_window(window, *, language: str | None = None) -> str:
    """Return a parsed sending window (core.communication.window.SendWindow) in words: "Mo–Fr 08:00–18:00"."""
    return "; ".join(
        f"{weekday_span(r.weekdays, language=language)} {clock_time(r.start)}–{clock_time(r.end)}"
        for r in window.ranges
    )
