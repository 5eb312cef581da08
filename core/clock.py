"""The service's clock: aware UTC to store and compare, the local date and time (TIMEZONE) for people and rules.

Stored timestamps are aware and in UTC; a placement service in Germany works on German days, so between
local midnight and 1 am (2 am in summer) the UTC date is still yesterday. Every date a person sees or a
rule uses comes from here: ``clock.today()`` instead of ``date.today()``, ``clock.local(row.sent_at)``
instead of showing ``row.sent_at`` as it came from the database.

Decisions stay pure: they take ``today``/``now`` as parameters; only their callers ask the clock.

Example::

    now = clock.now()                                    # 2026-12-01 23:30 UTC
    clock.today()                                        # date(2026, 12, 2) with TIMEZONE=Europe/Berlin
    f"{clock.local(email.sent_at):%d.%m.%Y %H:%M}"       # '02.12.2026 00:30'
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from core.config import Settings, get_settings


def now() -> datetime:
    """Return the current moment, aware, in UTC."""
    return datetime.now(UTC)


def zone(settings: Settings | None = None) -> ZoneInfo:
    """Return the service's time zone (the TIMEZONE setting, default Europe/Berlin)."""
    return ZoneInfo((settings or get_settings()).timezone)


def local(moment: datetime, settings: Settings | None = None) -> datetime:
    """Return ``moment`` as the service's local time; a naive moment is taken to be UTC (how Postgres stores it)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(settings))


def local_date(moment: datetime, settings: Settings | None = None) -> date:
    """Return the service's local calendar day of ``moment`` (what a person in the service calls that day)."""
    return local(moment, settings).date()


def today(settings: Settings | None = None) -> date:
    """Return the service's local date now: the "today" of every rule and every page."""
    return local_date(now(), settings)
