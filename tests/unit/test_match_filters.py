"""Hard filters: every rule passes and fails as DESIGN 3.2 says, with its reason code and sentence; relaxations."""

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.icd10 import covers_any
from core.matching.filters import REASON_CODES, SUMMARIES, describe, evaluate, notes
from tests.support.match_snapshots import (
    SETTINGS,
    TODAY,
    distances,
    north_of_berlin,
    practice_row,
    search_row,
    snapshot,
    therapist_row,
)

ONE = np.zeros(1, dtype=np.int64)
FAR_LAT, FAR_LON = north_of_berlin(20.0)
SIX_KM = dict(zip(("latitude", "longitude"), north_of_berlin(6.0), strict=True))
CHILDREN = [{"procedure": "VT", "setting": "individual", "age_group": "children_youth"}]
GROUP_ONLY = [{"procedure": "VT", "setting": "group", "age_group": "adults"}]


def check(search=None, therapist=None, practice=None, history=None):
    """Return (failed codes, their sentences) of the one pair."""
    snap = snapshot(
        [search_row(**(search or {}))],
        [therapist_row(**(therapist or {}))],
        [practice_row(**(practice or {}))],
        history,
    )
    km = distances(snap, ONE, ONE)
    result = evaluate(snap, ONE, ONE, km, settings=SETTINGS)
    codes = result.reasons(0)
    assert bool(result.passed[0]) == (codes == [])
    return codes, [describe(snap, code, 0, 0, float(km[0]), settings=SETTINGS).sentence for code in codes]


def history(outcome, days_ago):
    return [{"search_id": 1, "therapist_id": 1, "outcome": outcome, "answered_at": TODAY - timedelta(days=days_ago)}]


PASSING = [
    ({}, {}, {}, None),  # the default pair: 2 km, VT for adults, free practice
    ({"age": 15}, {"procedures": CHILDREN}, {}, None),  # a 15-year-old with a children-and-youth therapist
    ({"procedure_wishes": ("TP", "VT")}, {}, {}, None),  # one of the wished procedures is offered
    ({"setting_wish": "either"}, {"procedures": GROUP_ONLY}, {}, None),  # open to group: a group-only therapist fits
    ({"therapist_gender_wish": "female"}, {}, {}, None),  # the wished gender
    ({}, {"pref_age_min": 18, "pref_age_max": 30}, {}, None),  # age at the edge of the therapist's range
    ({"gender": "female"}, {"pref_patient_gender": "female"}, {}, None),  # the therapist's patient gender
    ({"diagnoses": ("F40.1",)}, {"pref_diagnoses": ("F40",)}, {}, None),  # F40 covers F40.1
    ({"diagnoses": ()}, {"pref_diagnoses": ("F40",)}, {}, None),  # no diagnosis yet: the focus is not checked
    ({"languages": ("tr", "de")}, {"languages": ("de",)}, {}, None),  # one common language
    ({"insurance_type": "private"}, {"statutory_licence": False}, {}, None),  # private: no licence needed
    ({"excluded_therapist_ids": (99,)}, {}, {}, None),  # another therapist is excluded
    ({}, {}, {"cooldown_until": TODAY}, None),  # the cooldown ends today
    ({}, {}, {"inquiries_30d": 1}, None),  # under the monthly cap
    ({"availability": [{"weekday": 0, "start": "08:00", "end": "10:00"}]}, {}, {}, None),  # 2 h on Monday
    (
        {"availability": [{"weekday": 1, "start": "08:00", "end": "18:00"}]},
        {"practice_hours": {}},
        {},
        None,
    ),  # no hours
    ({}, {}, {}, history("declined_capacity", 91)),  # "no capacity" 91 days ago has expired
    ({}, {}, {}, history("declined_other", 5)),  # other declines do not exclude the pair
    ({"open_items": 2}, {}, {}, None),  # one more item still fits
    ({"max_distance_km": None, "max_travel_minutes": 45}, SIX_KM, {}, None),  # 6 km by transit: 37 minutes
]


@pytest.mark.parametrize(("search", "therapist", "practice", "past"), PASSING)
def test_filters__passing_pairs_fail_no_rule(search, therapist, practice, past):
    assert check(search, therapist, practice, past) == ([], [])


FAILING = [
    # the search is paused
    ({"status": "paused"}, {}, {}, None, "search_inactive",
     "The search is paused, not active; only active searches are matched."),
    # a patient without coordinates is never "0 km" away
    ({"latitude": None, "longitude": None}, {}, {}, None, "location_missing",
     "The patient has no usable location, so no distance can be computed."),
    # a therapist without coordinates
    ({}, {"latitude": None, "longitude": None}, {}, None, "location_missing",
     "The therapist has no usable location, so no distance can be computed."),
    # 20 km away, the patient travels 15 km
    ({}, {"latitude": FAR_LAT, "longitude": FAR_LON}, {}, None, "too_far",
     "The practice is 20.0 km away; the patient's limit is 15 km."),
    # 6 km by transit take 37 minutes, the patient travels 30
    ({"max_distance_km": None, "max_travel_minutes": 30}, SIX_KM, {}, None, "travel_time",
     "The trip takes about 37 minutes by transit; the patient's limit is 30 minutes."),
    # a 15-year-old and a therapist for adults only
    ({"age": 15}, {}, {}, None, "age_group",
     "The therapist treats adults; the patient is 15 and needs a therapist for children and youth."),
    # an adult and a therapist for children and youth only
    ({}, {"procedures": CHILDREN}, {}, None, "age_group",
     "The therapist treats children and youth; the patient is 30 and needs a therapist for adults."),
    # TP wished, VT offered
    ({"procedure_wishes": ("TP",)}, {}, {}, None, "procedure", "The therapist offers VT; the patient wishes TP."),
    # a group-only therapist and a patient who wants individual sessions
    ({}, {"procedures": GROUP_ONLY}, {}, None, "setting",
     "The therapist offers group therapy; the patient wishes individual therapy."),
    # a patient who wants a group and a therapist without groups
    ({"setting_wish": "group"}, {}, {}, None, "setting",
     "The therapist offers individual therapy; the patient wishes group therapy."),
    # a male therapist wished
    ({"therapist_gender_wish": "male"}, {}, {}, None, "therapist_gender",
     "The patient wishes a male therapist; the therapist is female."),
    # the therapist takes patients from 40
    ({}, {"pref_age_min": 40}, {}, None, "patient_age",
     "The therapist takes patients aged 40 and over; the patient is 30."),
    # the therapist takes patients up to 25
    ({}, {"pref_age_max": 25}, {}, None, "patient_age",
     "The therapist takes patients aged up to 25; the patient is 30."),
    # the therapist takes only men
    ({}, {"pref_patient_gender": "male"}, {}, None, "patient_gender",
     "The therapist takes only male patients; the patient is female."),
    # F40.1 does not cover its sibling F40.2
    ({"diagnoses": ("F40.2",)}, {"pref_diagnoses": ("F40.1",)}, {}, None, "diagnosis",
     "The therapist's focus F40.1 covers none of the patient's diagnoses F40.2."),
    # a subcode does not cover its category
    ({"diagnoses": ("F40",)}, {"pref_diagnoses": ("F40.1",)}, {}, None, "diagnosis",
     "The therapist's focus F40.1 covers none of the patient's diagnoses F40."),
    # no common language
    ({"languages": ("tr",)}, {"languages": ("de", "en")}, {}, None, "language",
     "The therapist speaks de, en; the patient speaks tr."),
    # statutory insurance without Kassensitz
    ({}, {"statutory_licence": False}, {}, None, "statutory_licence",
     "The patient has statutory insurance; the therapist has no statutory licence (Kassensitz)."),
    # excluded on the search or by the patient
    ({"excluded_therapist_ids": (1,)}, {}, {}, None, "excluded",
     "This therapist is excluded for this patient (by the patient or on the search)."),
    # inactive
    ({}, {"status": "inactive"}, {}, None, "therapist_inactive", "The therapist is inactive and is not contacted."),
    # blocked until a date (the status counts, not the date)
    ({}, {"status": "blocked", "status_until": TODAY - timedelta(days=1)}, {}, None, "therapist_blocked",
     "The therapist is blocked until 2026-03-01."),
    # blocked without a date
    ({}, {"status": "blocked"}, {}, None, "therapist_blocked", "The therapist is blocked."),
    # cooling down until next week
    ({}, {}, {"cooldown_until": TODAY + timedelta(days=5)}, None, "cooldown",
     "The practice cools down after its last answer until 2026-03-07."),
    # an open inquiry at the practice
    ({}, {}, {"open_inquiries": 1}, None, "open_inquiry",
     "The practice already has 1 open inquiry; only one at a time is allowed."),
    # two open inquiries (an override by staff)
    ({}, {}, {"open_inquiries": 2}, None, "open_inquiry",
     "The practice already has 2 open inquiries; only one at a time is allowed."),
    # two inquiries this month
    ({}, {}, {"inquiries_30d": 2}, None, "monthly_cap",
     "The practice had 2 inquiries in the last 30 days; the limit is 2."),
    # free only on Tuesdays, the practice works on Mondays
    ({"availability": [{"weekday": 1, "start": "08:00", "end": "18:00"}]}, {}, {}, None, "availability_overlap",
     "The patient is available 0.0 h a week on the practice's days (Mon); at least 2 h are needed."),
    # "no capacity" ten days ago
    ({}, {}, {}, history("declined_capacity", 10), "recent_capacity_decline",
     "The therapist declined this patient for lack of capacity on 2026-02-20; such an answer holds for 90 days."),
    # "unsuitable" long ago still holds
    ({}, {}, {}, history("declined_unsuitable", 400), "unsuitable",
     "The therapist declined this patient as unsuitable on 2025-01-26."),
    # three open items already
    ({"open_items": 3}, {}, {}, None, "search_saturated",
     "The search already has 3 open inquiries, the most allowed at once (3)."),
]  # fmt: skip


@pytest.mark.parametrize(("search", "therapist", "practice", "past", "code", "sentence"), FAILING)
def test_filters__failing_pairs_name_the_rule_and_say_why(search, therapist, practice, past, code, sentence):
    assert check(search, therapist, practice, past) == ([code], [sentence])


def test_filters__every_rule_has_a_failing_case_and_a_summary():
    assert {row[4] for row in FAILING} == set(REASON_CODES)
    assert all(SUMMARIES[code].endswith(".") for code in REASON_CODES)


def test_filters__a_pair_reports_every_rule_it_fails():
    codes, _ = check(
        {"therapist_gender_wish": "male", "procedure_wishes": ("AP",)},
        {"latitude": FAR_LAT, "longitude": FAR_LON, "status": "inactive"},
        {"cooldown_until": TODAY + timedelta(days=3), "open_inquiries": 1},
    )
    assert codes == ["too_far", "procedure", "therapist_gender", "therapist_inactive", "cooldown", "open_inquiry"]


def test_filters__procedure_is_judged_within_the_patients_age_group():
    offers = [
        {"procedure": "VT", "setting": "individual", "age_group": "adults"},
        {"procedure": "TP", "setting": "individual", "age_group": "children_youth"},
    ]
    codes, sentences = check({"procedure_wishes": ("TP",)}, {"procedures": offers})
    assert codes == ["procedure"]
    assert sentences == ["The therapist offers VT; the patient wishes TP."]  # TP only for children


def test_filters__a_therapist_without_procedures_fails_procedure_only():
    sentence = "The therapist offers no procedure; the patient wishes any procedure."
    assert check({}, {"procedures": []}) == (["procedure"], [sentence])


RELAXED = [
    # distance widened to 25 km: 20 km now fits
    ({"relaxations": [{"rule": "distance", "value": 25}]}, {"latitude": FAR_LAT, "longitude": FAR_LON}, []),
    # the demo writes max_distance_km: read as distance
    ({"relaxations": [{"rule": "max_distance_km", "value": 25}]}, {"latitude": FAR_LAT, "longitude": FAR_LON}, []),
    # widened, but not enough: the sentence names the relaxed limit
    ({"relaxations": [{"rule": "distance", "value": 18}]}, {"latitude": FAR_LAT, "longitude": FAR_LON}, ["too_far"]),
    # a distance relaxation replaces the travel-time limit
    ({"max_distance_km": None, "max_travel_minutes": 30, "relaxations": [{"rule": "distance", "value": 10}]},
     SIX_KM, []),
    # a travel-time relaxation replaces the distance limit: 20 km by car take 36 minutes
    ({"transport_mode": "car", "relaxations": [{"rule": "travel_time", "value": 40}]},
     {"latitude": FAR_LAT, "longitude": FAR_LON}, []),
    # therapist gender "any"
    ({"therapist_gender_wish": "male", "relaxations": [{"rule": "therapist_gender", "value": "any"}]}, {}, []),
    # procedure "any"
    ({"procedure_wishes": ("TP",), "relaxations": [{"rule": "procedure", "value": "any"}]}, {}, []),
    # language "any"
    ({"languages": ("tr",), "relaxations": [{"rule": "language", "value": "any"}]}, {}, []),
    # setting "either": a group-only therapist fits an individual wish
    ({"relaxations": [{"rule": "setting", "value": "either"}]}, {"procedures": GROUP_ONLY}, []),
    # availability overlap lowered to 0 h
    ({"availability": [{"weekday": 1, "start": "08:00", "end": "18:00"}],
      "relaxations": [{"rule": "availability_overlap", "value": 0}]}, {}, []),
    # a wrong value relaxes nothing
    ({"therapist_gender_wish": "male", "relaxations": [{"rule": "therapist_gender", "value": "female"}]}, {},
     ["therapist_gender"]),
    # an unknown rule relaxes nothing
    ({"therapist_gender_wish": "male", "relaxations": [{"rule": "gender", "value": "any"}]}, {}, ["therapist_gender"]),
]  # fmt: skip


@pytest.mark.parametrize(("search", "therapist", "codes"), RELAXED)
def test_filters__relaxations_apply_per_search(search, therapist, codes):
    assert check(search, therapist)[0] == codes


def test_filters__relaxed_limit_appears_in_the_sentence():
    _, sentences = check(
        {"relaxations": [{"rule": "distance", "value": 18}]}, {"latitude": FAR_LAT, "longitude": FAR_LON}
    )
    assert sentences == ["The practice is 20.0 km away; the patient's limit is 18 km."]


def test_filters__relaxations_only_touch_their_own_search():
    relaxed = search_row(search_id=1, therapist_gender_wish="male",
                         relaxations=[{"rule": "therapist_gender", "value": "any"}])  # fmt: skip
    strict = search_row(search_id=2, therapist_gender_wish="male")
    snap = snapshot([relaxed, strict], [therapist_row()], [practice_row()])
    rows = np.array([0, 1])
    result = evaluate(
        snap, rows, np.zeros(2, dtype=np.int64), distances(snap, rows, np.zeros(2, int)), settings=SETTINGS
    )
    assert result.failed["therapist_gender"].tolist() == [False, True]


def test_filters__ignored_relaxations_are_reported():
    snap = snapshot([search_row(relaxations=[{"rule": "gender", "value": "any"}, {"rule": "distance", "value": -3}])])
    assert snap.ignored_relaxations == {1: [{"rule": "gender", "value": "any"}, {"rule": "distance", "value": -3}]}


def test_notes__say_which_rules_were_skipped_or_relaxed():
    snap = snapshot(
        [search_row(relaxations=[{"rule": "distance", "value": 25, "by": "anna@example.org", "reason": "rural."}])],
        [therapist_row(practice_hours={}, pref_diagnoses=("F40",))],
    )
    assert notes(snap, 0, 0) == [
        "The practice's hours are unknown, so the availability rule was skipped.",
        "The patient has no diagnosis yet, so the therapist's diagnosis focus was not checked.",
        "Relaxed by anna@example.org: distance up to 25 km (rural).",
    ]


def test_filters__vectorised_over_many_pairs_like_one_at_a_time():
    rng = np.random.default_rng(5)
    searches = [
        search_row(search_id=i + 1, age=int(rng.integers(10, 80)),
                   therapist_gender_wish=str(rng.choice(["any", "male"])),
                   procedure_wishes=tuple(rng.choice(["VT", "TP"], size=int(rng.integers(0, 2)))))
        for i in range(12)
    ]  # fmt: skip
    therapists = [
        therapist_row(therapist_id=j + 1, practice_id=j % 4 + 1, gender=str(rng.choice(["female", "male"])),
                      procedures=CHILDREN if j % 3 == 0 else [{"procedure": str(rng.choice(["VT", "TP"])),
                                                               "setting": "individual", "age_group": "adults"}])
        for j in range(9)
    ]  # fmt: skip
    practices = [practice_row(practice_key=k, practice_id=k, open_inquiries=k % 2) for k in range(1, 5)]
    snap = snapshot(searches, therapists, practices)
    s, t = np.meshgrid(np.arange(12), np.arange(9), indexing="ij")
    s, t = s.ravel(), t.ravel()
    together = evaluate(snap, s, t, distances(snap, s, t), settings=SETTINGS)
    for pair in range(len(s)):
        alone = evaluate(
            snap,
            s[pair : pair + 1],
            t[pair : pair + 1],
            distances(snap, s[pair : pair + 1], t[pair : pair + 1]),
            settings=SETTINGS,
        )
        assert together.reasons(pair) == alone.reasons(0)


CODES = st.builds(
    lambda category, sub: f"F{category:02d}" + (f".{sub}" if sub is not None else ""),
    st.integers(30, 45),
    st.one_of(st.none(), st.integers(0, 9).map(str), st.integers(10, 19).map(str)),
)


@settings(deadline=None)  # each example builds a snapshot with pandas: a loaded machine may take a while
@given(focus=st.lists(CODES, min_size=1, max_size=3), diagnoses=st.lists(CODES, min_size=1, max_size=3))
def test_filters__diagnosis_rule_follows_the_icd10_hierarchy(focus, diagnoses):
    codes, _ = check({"diagnoses": tuple(diagnoses)}, {"pref_diagnoses": tuple(focus)})
    assert (codes == ["diagnosis"]) == (not covers_any(focus, diagnoses))


@pytest.mark.parametrize("seed", range(4))
def test_filters__history_lookup_limited_to_searches_with_history_finds_the_same_pairs(seed):
    from types import SimpleNamespace

    from core.matching.filters import _pairs_in, _pairs_of_searches_in

    rng = np.random.default_rng(seed)
    searches, therapists = 300, 700
    fake = SimpleNamespace(searches=range(searches), therapists=range(therapists))
    s, t = rng.integers(0, searches, 20_000), rng.integers(0, therapists, 20_000)
    keys = s * therapists + t
    history = np.unique(np.r_[rng.choice(keys, 40), rng.integers(0, searches * therapists, 40)])

    assert np.array_equal(_pairs_of_searches_in(fake, s, keys, history), _pairs_in(keys, history))
    assert _pairs_of_searches_in(fake, s, keys, history).sum() >= 1
    assert not _pairs_of_searches_in(fake, s, keys, history[:0]).any()
