"""Phone hours: every way staff write them is read into one normal form, and bad input names its bad part."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.therapists.phone_hours import (
    day_text,
    format_phone_hours,
    normalise_phone_hours,
    parse_phone_hours,
)

WEEKDAYS_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo 9-12", {"0": [["09:00", "12:00"]]}),  # short German day, hours only
        ("Montag 09:00 - 12:00", {"0": [["09:00", "12:00"]]}),  # full German day, clock times with blanks
        ("monday 9-12", {"0": [["09:00", "12:00"]]}),  # English, lower case
        ("Mon 9-12", {"0": [["09:00", "12:00"]]}),  # English abbreviation
        ("MO 9-12", {"0": [["09:00", "12:00"]]}),  # shouting
        ("Mo. 9-12", {"0": [["09:00", "12:00"]]}),  # abbreviation with a dot
        ("Mo: 9-12", {"0": [["09:00", "12:00"]]}),  # colon after the day
        ("Di 9:30-10", {"1": [["09:30", "10:00"]]}),  # minutes on one side only
        ("Mi 9.30-10.15", {"2": [["09:30", "10:15"]]}),  # dots as time separator
        ("Do 9 bis 12 Uhr", {"3": [["09:00", "12:00"]]}),  # German "bis" and "Uhr"
        ("Fr 9h-12h", {"4": [["09:00", "12:00"]]}),  # "h" suffix
        ("Sa 9–12", {"5": [["09:00", "12:00"]]}),  # en dash
        ("Sonntag 10-11", {"6": [["10:00", "11:00"]]}),  # Sunday
        ("Mo-Fr 9-10", WEEKDAYS_9_10),  # day range
        ("Montag bis Freitag 09:00 - 10:00 Uhr", WEEKDAYS_9_10),  # day range in words
        ("Mon to Fri 9 to 10", WEEKDAYS_9_10),  # English range words
        ("Mo, Di, Mi, Do, Fr 9-10", WEEKDAYS_9_10),  # list of days
        ("monday, tue, Mi, Do, Fr: 9-10", WEEKDAYS_9_10),  # mixed languages
        ("Di 9-12, 14-15", {"1": [["09:00", "12:00"], ["14:00", "15:00"]]}),  # two ranges on one day
        ("Di 14-15, 9-12", {"1": [["09:00", "12:00"], ["14:00", "15:00"]]}),  # ranges are sorted
        ("Mo 9-11, 10-12", {"0": [["09:00", "12:00"]]}),  # overlapping ranges merge
        ("Mo 9-10, 10-11", {"0": [["09:00", "11:00"]]}),  # touching ranges merge
        ("Mo 9-10; Di 11-12", {"0": [["09:00", "10:00"]], "1": [["11:00", "12:00"]]}),  # semicolon
        ("Mo 9-10, Di 11-12", {"0": [["09:00", "10:00"]], "1": [["11:00", "12:00"]]}),  # comma between days
        ("Mo 9-10\nDi 11-12", {"0": [["09:00", "10:00"]], "1": [["11:00", "12:00"]]}),  # one day per line
        ("Di 11-12; Mo 9-10", {"0": [["09:00", "10:00"]], "1": [["11:00", "12:00"]]}),  # days are sorted
        ("Mo-Di 9-10; Di 14-15", {"0": [["09:00", "10:00"]], "1": [["09:00", "10:00"], ["14:00", "15:00"]]}),  # twice
        ("Mo und Mi 8-9", {"0": [["08:00", "09:00"]], "2": [["08:00", "09:00"]]}),  # "und"
        ("", {}),  # no phone hours
        ("   ", {}),  # blanks only
    ],
)
def test_parse_phone_hours__reads_common_styles_into_the_normal_form(text, expected):
    assert parse_phone_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mo", "'Mo' has no hours after it"),  # a day without times
        ("Mo-Fr", "'Mo-Fr' has no hours after it"),  # a day range without times
        ("Mo 9-10; Di", "'Di' has no hours after it"),  # last group without times
        ("9-12", "'9-12' has no weekday before it"),  # times without a day
        ("Mo 9-10; 14-15", "'14-15' has no weekday before it"),  # a semicolon ends the day group
        ("Mo 12-9", "'12-9' ends before it starts"),  # reversed range
        ("Mo 9-9", "'9-9' ends before it starts"),  # empty range
        ("Montg 9-12", "'Montg' is not a weekday"),  # typo in the day
        ("Mo 9-12 geschlossen", "'geschlossen' is not a weekday"),  # prose
        ("Mo 25-26", "'25' is not a time of day"),  # hour out of range
        ("Mo 9:75-10", "'9:75' is not a time of day"),  # minute out of range
        ("Mo 9:3-10", "'9:3' needs two digits for the minutes"),  # one-digit minutes
        ("Mo 9", "'9' has no end time"),  # a single time
        ("Mo 9-", "'9' has no end time"),  # a dangling dash
        ("Fr-Mo 9-10", "'Fr-Mo' runs backwards"),  # day range backwards
        ("Mo - 9-10", "'-' stands where a weekday or a time was expected"),  # stray dash
        ("Mo 9-12 @ home", "could not read '@'"),  # unreadable character
        ("Mo 9-12 (nur AB)", "could not read '(nur'"),  # brackets
    ],
)
def test_parse_phone_hours__bad_input_names_the_part_that_failed(text, message):
    with pytest.raises(ValidationError) as caught:
        parse_phone_hours(text)
    assert message in str(caught.value)
    assert "write e.g. 'Mo-Fr 9-10; Do 14:00-16:00'" in str(caught.value)
    assert caught.value.field == "phone_hours"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),  # nothing stored
        ({}, {}),  # empty mapping
        ({0: [["9:00", "10:00"]]}, {"0": [["09:00", "10:00"]]}),  # int keys, one-digit hours
        ({"1": [["14:00", "15:00"], ["09:00", "10:00"]]}, {"1": [["09:00", "10:00"], ["14:00", "15:00"]]}),  # unsorted
        ({"1": []}, {}),  # a day without ranges disappears
        ("Mo 9-10", {"0": [["09:00", "10:00"]]}),  # text goes through the parser
    ],
)
def test_normalise_phone_hours__accepts_untidy_normal_forms(value, expected):
    assert normalise_phone_hours(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"7": [["09:00", "10:00"]]}, "weekday key '7' must be 0 (Monday) to 6 (Sunday)"),  # no eighth day
        ({"0": [["09:00"]]}, "must be a pair of times"),  # half a range
        ({"0": [["nine", "ten"]]}, "'nine' is not a time like '09:00'"),  # words
        ({"0": [["10:00", "09:00"]]}, "'10:00-09:00' ends before it starts"),  # reversed
    ],
)
def test_normalise_phone_hours__refuses_broken_mappings(value, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        normalise_phone_hours(value)


@pytest.mark.parametrize(
    ("hours", "language", "text"),
    [
        ({}, "de", ""),  # nothing
        ({"0": [["09:00", "12:00"]]}, "de", "Mo 09:00–12:00"),  # one day
        (WEEKDAYS_9_10, "de", "Mo–Fr 09:00–10:00"),  # a run of equal days is joined
        (WEEKDAYS_9_10, "en", "Mon–Fri 09:00–10:00"),  # English labels
        ({"0": [["09:00", "10:00"]], "1": [["09:00", "10:00"]]}, "de", "Mo, Di 09:00–10:00"),  # two days listed
        ({"0": [["09:00", "10:00"]], "2": [["09:00", "10:00"]]}, "de", "Mo 09:00–10:00; Mi 09:00–10:00"),  # gap
        ({"1": [["09:00", "12:00"], ["14:00", "15:00"]]}, "de", "Di 09:00–12:00, 14:00–15:00"),  # two ranges
    ],
)
def test_format_phone_hours__renders_readable_text(hours, language, text):
    assert format_phone_hours(hours, language=language) == text


def test_day_text__lists_one_days_ranges():
    hours = {"1": [["09:00", "12:00"], ["14:00", "15:00"]]}
    assert (day_text(hours, 1), day_text(hours, 2)) == ("09:00–12:00, 14:00–15:00", "")


_range = st.tuples(st.integers(0, 23 * 60 + 58), st.integers(1, 120)).map(
    lambda pair: [f"{pair[0] // 60:02d}:{pair[0] % 60:02d}", _clock(min(pair[0] + pair[1], 23 * 60 + 59))]
)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@given(st.dictionaries(st.integers(0, 6).map(str), st.lists(_range, min_size=1, max_size=4), max_size=7))
def test_format_then_parse__gives_back_the_normal_form(raw):
    for language in ("de", "en"):
        hours = normalise_phone_hours(raw)
        assert parse_phone_hours(format_phone_hours(hours, language=language)) == hours
