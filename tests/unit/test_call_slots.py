"""The 5-minute call-slot allocator: phone hours, working days, German holidays, never double-booked."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.communication import calls
from core.communication.calls import (
    DEFAULT_PHONE_HOURS,
    SlotAllocator,
    is_working_day,
    iter_slots,
    next_free_slot,
)

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("hours", "after", "expected"),
    [
        # a Thursday morning before the hours: the first slot of the day
        (MON_FRI_9_10, "2026-11-26 07:12", "2026-11-26 09:00"),
        # inside the hours at 09:07: the next slot boundary
        (MON_FRI_9_10, "2026-11-26 09:07", "2026-11-26 09:10"),
        # the last slot 09:55-10:00 still fits
        (MON_FRI_9_10, "2026-11-26 09:55", "2026-11-26 09:55"),
        # after the hours on a Friday: skip the weekend to Monday
        (MON_FRI_9_10, "2026-11-27 10:00", "2026-11-30 09:00"),
        # Christmas Eve afternoon: 25 Dec (Friday) and 26 Dec are holidays, then the weekend -> Monday 28 Dec
        (MON_FRI_9_10, "2026-12-24 15:00", "2026-12-28 09:00"),
        # German Unity Day 2027 is a Sunday; 2 Oct 2026 (Friday) before the Saturday holiday is a working day
        (MON_FRI_9_10, "2026-10-02 08:00", "2026-10-02 09:00"),
        # month end: Thursday 30 April after hours -> 1 May (Labour Day, Friday) -> Monday 4 May
        (MON_FRI_9_10, "2026-04-30 11:00", "2026-05-04 09:00"),
        # year end: 31 Dec after hours -> 1 Jan holiday -> Monday 4 Jan 2027
        (MON_FRI_9_10, "2026-12-31 11:00", "2027-01-04 09:00"),
        # hours only on Tuesday afternoon
        ({"1": [["14:00", "14:30"]]}, "2026-11-26 09:00", "2026-12-01 14:00"),
        # hours given on a Saturday are never used (no calls at weekends)
        ({"5": [["09:00", "10:00"]], "0": [["16:00", "17:00"]]}, "2026-11-27 12:00", "2026-11-30 16:00"),
        # across the change to winter time (25 Oct 2026): local hours stay local
        (MON_FRI_9_10, "2026-10-23 11:00", "2026-10-26 09:00"),
    ],
)
def test_next_free_slot__inside_hours_on_working_days(hours, after, expected):
    slot = next_free_slot(hours, taken=set(), after=local(after), tz=TZ)
    assert slot.astimezone(BERLIN) == local(expected)


def test_next_free_slot__skips_taken_slots():
    taken = {local("2026-11-26 09:00"), local("2026-11-26 09:05").astimezone(UTC)}
    slot = next_free_slot(MON_FRI_9_10, taken=taken, after=local("2026-11-26 08:00"), tz=TZ)
    assert slot.astimezone(BERLIN) == local("2026-11-26 09:10")


def test_next_free_slot__none_when_the_horizon_is_full():
    hours = {"3": [["09:00", "09:10"]]}
    taken = {local("2026-11-26 09:00"), local("2026-11-26 09:05")}
    assert next_free_slot(hours, taken=taken, after=local("2026-11-26 08:00"), tz=TZ, horizon_days=3) is None


def test_next_free_slot__empty_hours_fall_back_to_the_default():
    slot = next_free_slot({}, taken=set(), after=local("2026-11-26 07:00"), tz=TZ)
    assert slot.astimezone(BERLIN).strftime("%H:%M") == DEFAULT_PHONE_HOURS["3"][0][0]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-12-25", False),  # Christmas Day, a Friday
        ("2026-10-03", False),  # German Unity Day, a Saturday
        ("2026-11-28", False),  # an ordinary Saturday
        ("2026-11-26", True),  # an ordinary Thursday
        ("2026-04-03", False),  # Good Friday
        ("2026-12-24", True),  # Christmas Eve is no public holiday
    ],
)
def test_is_working_day__weekends_and_german_holidays(day, working):
    assert is_working_day(datetime.fromisoformat(day).date()) is working


hours_strategy = st.dictionaries(
    keys=st.sampled_from([str(day) for day in range(7)]),
    values=st.lists(
        st.tuples(st.integers(6 * 12, 19 * 12), st.integers(1, 24)).map(
            lambda pair: [f"{pair[0] // 12:02d}:{pair[0] % 12 * 5:02d}",
                          f"{min(pair[0] + pair[1], 20 * 12) // 12:02d}:{min(pair[0] + pair[1], 20 * 12) % 12 * 5:02d}"]
        ),
        min_size=1,
        max_size=2,
    ),
    min_size=1,
    max_size=7,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    practices=st.lists(hours_strategy, min_size=1, max_size=6),
    calls=st.lists(st.integers(0, 5), min_size=1, max_size=40),
    start_minutes=st.integers(0, 60 * 24 * 14),
)
def test_next_free_slot__never_double_books(practices, calls, start_minutes):
    """Allocating calls one after another for random practices never hands out a slot twice."""
    after = local("2026-12-14 00:00") + timedelta(minutes=start_minutes)
    taken: set[datetime] = set()
    for index in calls:
        hours = practices[index % len(practices)]
        slot = next_free_slot(hours, taken=taken, after=after, tz=TZ, horizon_days=120)
        if slot is None:
            continue
        assert slot not in taken
        assert slot >= after
        when = slot.astimezone(BERLIN)
        assert is_working_day(when.date())
        assert when.minute % 5 == 0
        inside = any(
            begin <= when.strftime("%H:%M") and (when + timedelta(minutes=5)).strftime("%H:%M") <= end
            for begin, end in hours.get(str(when.weekday()), [])
        )
        assert inside
        taken.add(slot)


def test_iter_slots__yields_in_order_without_repeats():
    slots = list(iter_slots(MON_FRI_9_10, after=local("2026-12-21 00:00"), tz=TZ, horizon_days=14))
    assert slots == sorted(set(slots))
    # 21 Dec to 4 Jan: 21-24, 28-31 Dec and 4 Jan are working days (25, 26 Dec and 1 Jan are holidays)
    assert len(slots) == 12 * 9


@settings(max_examples=60, deadline=None)
@given(
    practices=st.lists(hours_strategy, min_size=1, max_size=6),
    calls=st.lists(st.integers(0, 5), min_size=1, max_size=60),
    start_minutes=st.integers(0, 60 * 24 * 14),
    booked=st.lists(st.integers(0, 12 * 24 * 10), max_size=30),
)
def test_slot_allocator__hands_out_the_slots_next_free_slot_would(practices, calls, start_minutes, booked):
    """The job's allocator (one forward cursor per set of hours) picks, call by call, the very slots of
    next_free_slot, including around calls booked before the run and when the horizon is full."""
    after = local("2026-12-14 00:00") + timedelta(minutes=start_minutes)
    before = {(local("2026-12-14 00:00") + timedelta(minutes=5 * n)).astimezone(UTC) for n in booked}
    allocator = SlotAllocator(before, after=after, tz=TZ, horizon_days=20)
    taken = set(before)
    for index in calls:
        hours = practices[index % len(practices)]
        expected = next_free_slot(hours, taken=taken, after=after, tz=TZ, horizon_days=20)
        assert allocator.allocate(hours) == expected
        if expected is not None:
            taken.add(expected)


def test_slot_allocator__looks_at_each_slot_once_for_many_calls(monkeypatch):
    """1,500 calls in the same hours look at 1,500 slots (next_free_slot one by one: about 1.1 million)."""
    looked = []

    def counting(*args, **kwargs):
        for slot in iter_slots(*args, **kwargs):
            looked.append(slot)
            yield slot

    monkeypatch.setattr(calls, "iter_slots", counting)
    allocator = SlotAllocator(set(), after=local("2026-12-14 08:00"), tz=TZ)
    slots = [allocator.allocate(MON_FRI_9_10) for _ in range(1_500)]
    assert len(set(slots)) == 1_500
    assert len(looked) == 1_500
