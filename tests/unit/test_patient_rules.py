"""Pure patient rules: every state transition, pre-qualification, availability windows."""

from datetime import date

import pytest

from core.errors import IllegalTransition, ValidationError
from core.patients import rules
from core.patients.models import PatientStatus as P
from core.patients.models import SearchStatus as S
from core.patients.models import SettingWish

# The allowed transitions, written out by hand from DESIGN 3.1 (not derived from the code under test).
PATIENT_ALLOWED = {
    (P.NEW, P.SEARCHING), (P.NEW, P.SEARCH_CANCELLED),
    (P.SEARCHING, P.IN_THERAPY), (P.SEARCHING, P.SEARCH_CANCELLED),
    (P.IN_THERAPY, P.THERAPY_FINISHED), (P.IN_THERAPY, P.THERAPY_ABORTED),
    (P.SEARCH_CANCELLED, P.SEARCHING), (P.THERAPY_ABORTED, P.SEARCHING),
}  # fmt: skip
SEARCH_ALLOWED = {
    (S.ACTIVE, S.PAUSED), (S.ACTIVE, S.SUCCESSFUL), (S.ACTIVE, S.CANCELLED),
    (S.PAUSED, S.ACTIVE), (S.PAUSED, S.CANCELLED),
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in P for b in P])
def test_patient_transition__allowed_exactly_as_designed(current, target):
    if (current, target) in PATIENT_ALLOWED:
        rules.check_transition("patient", current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"A patient in state '{current.value}' cannot become"):
            rules.check_transition("patient", current, target)


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in S for b in S])
def test_search_transition__allowed_exactly_as_designed(current, target):
    if (current, target) in SEARCH_ALLOWED:
        rules.check_transition("search", current, target)
    else:
        with pytest.raises(IllegalTransition, match="allowed: "):
            rules.check_transition("search", current, target)


def test_transition__message_lists_the_allowed_targets():
    with pytest.raises(IllegalTransition) as error:
        rules.check_transition("search", S.PAUSED, S.SUCCESSFUL)
    assert str(error.value) == "A search in state 'paused' cannot become 'successful'; allowed: active, cancelled"


def test_transition__final_state_says_so():
    with pytest.raises(IllegalTransition, match=r"allowed: none \(final state\)"):
        rules.check_transition("patient", P.THERAPY_FINISHED, P.SEARCHING)


TODAY = date(2026, 11, 26)
QUALIFIED = dict(has_health_consent=True, has_share_consent=True, insurance_type="statutory",
                 previous_therapy_end=None, two_year_exception=None, weekly_hours_available=22.0,
                 setting_wish=SettingWish.INDIVIDUAL, today=TODAY)  # fmt: skip


def test_prequalify__qualified_patient_has_no_unmet_requirement():
    assert rules.prequalify(**QUALIFIED) == []


def test_prequalify__lists_every_unmet_requirement_at_once():
    unmet = rules.prequalify(**{**QUALIFIED, "has_health_consent": False, "has_share_consent": False,
                                "insurance_type": None, "previous_therapy_end": date(2025, 6, 30),
                                "weekly_hours_available": 12.0})  # fmt: skip
    assert [r.code for r in unmet] == ["consent_health", "consent_share", "insurance", "two_year_rule", "availability"]
    assert "possible from 30.06.2027" in unmet[3].message
    assert unmet[4].message == "Weekly availability is 12 h; at least 20 h are needed"


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({"previous_therapy_end": date(2024, 11, 25)}, []),  # more than two years ago
        ({"previous_therapy_end": date(2025, 1, 1), "two_year_exception": "Krisenintervention"}, []),  # exception
        ({"previous_therapy_end": date(2025, 1, 1), "two_year_exception": "   "}, ["two_year_rule"]),  # blank note
        ({"setting_wish": SettingWish.GROUP, "weekly_hours_available": 10.0}, []),  # group needs 10 h
        ({"setting_wish": SettingWish.GROUP, "weekly_hours_available": 9.5}, ["availability"]),
        ({"weekly_hours_available": 20.0}, []),  # exactly the minimum
    ],
)
def test_prequalify__rules_table(changes, codes):
    assert [r.code for r in rules.prequalify(**{**QUALIFIED, **changes})] == codes


def test_availability__normalised_sorted_and_summed():
    windows = rules.normalise_availability([
        {"weekday": 2, "start": "14:00", "end": "18:00"},
        {"weekday": 0, "start": "8:00", "end": "12:30"},
        {"weekday": 0, "start": "13:00", "end": "24:00"},
    ])  # fmt: skip
    assert windows[0] == {"weekday": 0, "start": "08:00", "end": "12:30"}
    assert rules.weekly_hours(windows) == 4.5 + 11 + 4


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"weekday": 7, "start": "08:00", "end": "09:00"}, "Weekday '7' must be 0 (Monday) to 6 (Sunday)"),
        ({"weekday": 1, "start": "12:00", "end": "08:00"}, "Window Di 12:00-08:00 ends before it starts"),
        ({"weekday": 1, "start": "09:00", "end": "09:00"}, "ends before it starts"),  # empty window
        ({"weekday": 1, "start": "25:00", "end": "26:00"}, "Time '25:00' is not a time of day"),
        ({"weekday": 1, "start": "morgens", "end": "12:00"}, "Time 'morgens' must look like HH:MM"),
    ],
)
def test_availability__bad_window_is_explained(window, message):
    with pytest.raises(ValidationError) as error:
        rules.normalise_availability([window])
    assert message in str(error.value)
    assert error.value.field == "availability"


def test_availability__overlap_is_refused():
    with pytest.raises(ValidationError, match=r"Windows on Mo overlap \(08:00-12:00 and from 11:00\)"):
        rules.normalise_availability([{"weekday": 0, "start": "08:00", "end": "12:00"},
                                      {"weekday": 0, "start": "11:00", "end": "13:00"}])  # fmt: skip


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # a late shift worker: Monday 23:00 until Tuesday 01:00
        ({"weekday": 0, "start": "23:00", "end": "01:00"},
         [{"weekday": 0, "start": "23:00", "end": "24:00"}, {"weekday": 1, "start": "00:00", "end": "01:00"}]),
        # Sunday night runs into Monday
        ({"weekday": 6, "start": "22:00", "end": "02:30"},
         [{"weekday": 0, "start": "00:00", "end": "02:30"}, {"weekday": 6, "start": "22:00", "end": "24:00"}]),
        # until midnight, written as 00:00
        ({"weekday": 2, "start": "23:00", "end": "00:00"}, [{"weekday": 2, "start": "23:00", "end": "24:00"}]),
    ],
)  # fmt: skip
def test_availability__a_window_over_midnight_continues_on_the_next_day(window, expected):
    windows = rules.normalise_availability([window])
    assert windows == expected
    assert rules.weekly_hours(windows) == rules.weekly_hours(expected)


def test_availability__a_reversed_daytime_window_is_still_refused():
    # 12:00-08:00 is a typo for 08:00-12:00, not 20 hours over midnight
    with pytest.raises(ValidationError, match="Window Di 12:00-08:00 ends before it starts"):
        rules.normalise_availability([{"weekday": 1, "start": "12:00", "end": "08:00"}])
