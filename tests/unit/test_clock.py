"""The service's clock: UTC to store, the TIMEZONE's date and time for people and rules."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from core import clock
from core.config import get_settings

BERLIN = get_settings().model_copy(update={"timezone": "Europe/Berlin"})
NEW_YORK = get_settings().model_copy(update={"timezone": "America/New_York"})


@pytest.mark.parametrize(
    ("utc", "settings", "local_day"),
    [
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), BERLIN, date(2026, 12, 2)),  # winter: UTC+1, already tomorrow
        (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), BERLIN, date(2026, 7, 2)),  # summer: UTC+2
        (datetime(2026, 12, 1, 22, 59, tzinfo=UTC), BERLIN, date(2026, 12, 1)),  # a minute before local midnight
        (datetime(2026, 12, 2, 3, 0, tzinfo=UTC), NEW_YORK, date(2026, 12, 1)),  # west of UTC: still yesterday
    ],
)
def test_today__is_the_date_in_the_services_time_zone(utc, settings, local_day):
    with time_machine.travel(utc, tick=False):
        assert clock.today(settings) == local_day
        assert clock.now() == utc
        assert clock.now().tzinfo is UTC


def test_local__shows_a_stored_moment_in_local_time_and_takes_naive_as_utc():
    aware = clock.local(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), BERLIN)
    naive = clock.local(datetime(2026, 12, 1, 23, 30), BERLIN)
    assert f"{aware:%d.%m.%Y %H:%M}" == f"{naive:%d.%m.%Y %H:%M}" == "02.12.2026 00:30"
    assert clock.local_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), BERLIN) == date(2026, 12, 2)
