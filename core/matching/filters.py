"""Hard filters (DESIGN 3.2 and 4, step 2): vectorised over candidate pairs, each failure with a reason code.

``evaluate`` answers, for arrays of (search row, therapist row, km), which rules each pair fails; it never
loops over pairs. ``describe`` turns one failed rule of one pair into an English sentence with its values,
for the "Why not?" explainer and the job log. A pair passes when it fails no rule.

code                     fails when
search_inactive          the search is not active (paused, successful, cancelled)
location_missing         the patient or the therapist has no usable coordinates (never "0 km")
too_far                  the distance exceeds the patient's maximum distance (or a staff relaxation)
travel_time              the estimated trip (core.geo.travel, patient's mode) exceeds the maximum minutes
age_group                the therapist offers nothing for the patient's age group (under 18: children and
                         youth, from 18: adults; kept simple: 18-20-year-olds count as adults)
procedure                the therapist offers none of the wished procedures (empty wish = any) for that group
setting                  the therapist offers none of the acceptable settings (individual / group / either)
                         for that group and procedure: a group-only therapist needs a patient open to group
therapist_gender         the patient wishes a therapist gender the therapist does not have
patient_age              the patient's age lies outside the therapist's preferred age range
patient_gender           the therapist takes only patients of a gender the patient does not have
diagnosis                the therapist has a diagnosis focus and none of its codes covers any patient
                         diagnosis (ICD-10 hierarchy: F40 covers F40.1); a patient without diagnosis passes,
                         because the diagnosis is made in the first sessions
language                 patient and therapist share no language (a patient without languages passes)
statutory_licence        statutory insurance and the therapist has no statutory licence (Kassensitz)
excluded                 the patient or the search excludes this therapist
therapist_inactive       the therapist's status is inactive
therapist_blocked        the therapist's status is blocked (the status is authoritative: the unblock job
                         clears a block whose until-date has passed)
cooldown                 the practice cools down after an answer: today is before ``cooldown_until``
open_inquiry             the practice has an open inquiry (approved ... call_scheduled)
monthly_cap              the practice had MATCH_MONTHLY_CAP inquiries in the last 30 days
availability_overlap     the patient is available fewer than MATCH_MIN_OVERLAP_HOURS hours a week on the
                         practice's days (see below); skipped when either side's hours are unknown
recent_capacity_decline  this therapist declined this search for lack of capacity within
                         MATCH_CAPACITY_DECLINE_DAYS days
unsuitable               this therapist declined this search as unsuitable (for good)
search_saturated         the search already has its maximum of open inquiry items (max_parallel_inquiries)

The practice's hours: the schema knows only phone hours (Telefonsprechstunde), not session hours, and phone
hours are short windows between sessions (often under an hour a week). Their overlap with the patient's
availability says nothing about a session slot and would exclude most practices. They do say on which
weekdays the therapist works at the practice, so the proxy is: the practice's days = the weekdays with
phone hours (the therapist's own, else the practice's), and the overlap = the patient's available hours
on those days. With no phone hours, the practice's hours are unknown and the rule is skipped (a note says so).

Example:
    result = evaluate(snapshot, search_rows, therapist_rows, km, settings=settings)
    result.passed.sum(), result.counts()["too_far"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from core.geo.travel import MODES
from core.matching.snapshot import (
    AGE_GROUPS,
    ALL_ENTRIES,
    EPOCH,
    GENDERS,
    PROCEDURES,
    SETTINGS,
    WISHES,
    Snapshot,
    entries_mask,
)
from core.messages import Message, term, words


class FilterSettings(Protocol):
    """The settings the filters read (core.config.Settings has them)."""

    match_monthly_cap: int
    match_min_overlap_hours: float
    match_capacity_decline_days: int


@dataclass(frozen=True)
class Rule:
    code: str
    summary: str  # generic English sentence, e.g. for a legend or the job summary


RULES: tuple[Rule, ...] = (
    Rule("search_inactive", "The search is not active."),
    Rule("location_missing", "Patient or therapist has no usable location."),
    Rule("too_far", "The practice is farther away than the patient's maximum distance."),
    Rule("travel_time", "The trip takes longer than the patient's maximum travel time."),
    Rule("age_group", "The therapist does not treat the patient's age group."),
    Rule("procedure", "The therapist offers none of the wished procedures."),
    Rule("setting", "The therapist does not offer the wished setting (individual or group)."),
    Rule("therapist_gender", "The therapist's gender is not the one the patient wishes."),
    Rule("patient_age", "The patient's age is outside the therapist's preferred range."),
    Rule("patient_gender", "The therapist takes only patients of another gender."),
    Rule("diagnosis", "The therapist's diagnosis focus does not cover the patient's diagnoses."),
    Rule("language", "Patient and therapist share no language."),
    Rule("statutory_licence", "Statutory insurance needs a therapist with a statutory licence."),
    Rule("excluded", "The patient or staff excluded this therapist."),
    Rule("therapist_inactive", "The therapist is inactive."),
    Rule("therapist_blocked", "The therapist is blocked."),
    Rule("cooldown", "The practice is cooling down after its last answer."),
    Rule("open_inquiry", "The practice already has an open inquiry."),
    Rule("monthly_cap", "The practice reached its monthly number of inquiries."),
    Rule("availability_overlap", "The patient's availability hardly overlaps the practice's days."),
    Rule("recent_capacity_decline", "The therapist recently declined this patient for lack of capacity."),
    Rule("unsuitable", "The therapist declined this patient as unsuitable."),
    Rule("search_saturated", "The search already has its maximum of open inquiries."),
)
REASON_CODES: tuple[str, ...] = tuple(rule.code for rule in RULES)
SUMMARIES: dict[str, str] = {rule.code: rule.summary for rule in RULES}

DAY_BITS = ((np.arange(128)[:, None] >> np.arange(7)[None, :]) & 1).astype(float)  # weekday mask -> 7 flags
_DECLINED_CAPACITY, _DECLINED_UNSUITABLE = "declined_capacity", "declined_unsuitable"


@dataclass(frozen=True)
class FilterResult:
    failed: dict[str, np.ndarray]  # reason code -> bool per pair
    passed: np.ndarray  # bool per pair: no rule failed

    def counts(self) -> dict[str, int]:
        """Return, per reason code, how many pairs fail that rule (a pair may fail several)."""
        return {code: int(np.count_nonzero(mask)) for code, mask in self.failed.items()}

    def reasons(self, pair: int) -> list[str]:
        """Return the codes one pair fails, in rule order."""
        return [code for code in REASON_CODES if self.failed[code][pair]]


@dataclass(frozen=True)
class Failure:
    code: str  # one of REASON_CODES
    sentence: str  # English, with the values that decided it
    details: dict[str, Any]  # the same values for translated texts


def search_capacity(snapshot: Snapshot) -> np.ndarray:
    """Return, per search row, how many new inquiry items it may get (0 for a saturated or inactive search)."""
    searches = snapshot.searches
    free = searches["max_parallel"].to_numpy() - searches["open_items"].to_numpy()
    return np.where(searches["status"].to_numpy() == "active", np.maximum(free, 0), 0).astype(np.int64)


_ACCESS_MINUTES = np.array([profile.access_minutes for profile in MODES.values()])
_MINUTES_PER_KM = np.array([profile.detour_factor / profile.speed_kmh * 60 for profile in MODES.values()])


def travel_minutes(snapshot: Snapshot, search_rows: np.ndarray, distance_km: np.ndarray) -> np.ndarray:
    """Return the estimated door-to-door minutes per pair in the patient's transport mode (NaN stays NaN).

    The same estimate as ``core.geo.travel.estimate_minutes``; a batch never asks a routing server per pair.
    """
    modes = snapshot.searches["mode_code"].to_numpy()[np.asarray(search_rows, dtype=np.int64)]
    return _ACCESS_MINUTES[modes] + np.asarray(distance_km, dtype=float) * _MINUTES_PER_KM[modes]


def overlap_hours(snapshot: Snapshot, search_rows: np.ndarray, therapist_rows: np.ndarray) -> np.ndarray:
    """Return the patient's available hours on the practice's days per pair (NaN when either is unknown)."""
    searches, therapists = snapshot.searches, snapshot.therapists
    hours = searches[[f"avail_{day}" for day in range(7)]].to_numpy(dtype=float)
    table = hours @ DAY_BITS.T  # (searches, 128): available hours on every set of weekdays
    days = therapists["hours_days"].to_numpy()[therapist_rows]
    overlap = table.ravel().take(np.asarray(search_rows, dtype=np.int64) * table.shape[1] + days)  # one flat take
    known = searches["availability_known"].to_numpy()[search_rows] & (days != 0)
    return np.where(known, overlap, np.nan)


def _any_common(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return per row whether two (rows, words) bitsets share a bit."""
    if left.shape[1] == 1:
        return (left[:, 0] & right[:, 0]) != 0
    return np.any((left & right) != 0, axis=1)


def _pairs_in(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return whether each key is in the sorted, unique ``wanted`` (a binary search: wanted is small)."""
    if wanted.size == 0 or keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    at = np.minimum(np.searchsorted(wanted, keys), wanted.size - 1)
    return wanted[at] == keys


def _pairs_of_searches_in(snapshot: Snapshot, s: np.ndarray, keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return ``_pairs_in(keys, wanted)``, searching only the pairs whose search has a key in ``wanted`` at all.

    A key is search row * therapists + therapist row (``Snapshot.pair_keys``), so its search row is key //
    therapists; nationwide few searches have such history and the binary search skips ~2.5 M pairs.
    """
    if wanted.size == 0 or keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    has_any = np.zeros(len(snapshot.searches), dtype=bool)
    has_any[wanted // max(len(snapshot.therapists), 1)] = True
    rows = np.flatnonzero(has_any[s])
    found = np.zeros(keys.shape, dtype=bool)
    found[rows] = _pairs_in(keys[rows], wanted)
    return found


def _history_keys(snapshot: Snapshot, outcome: str, since_day: float = -np.inf) -> np.ndarray:
    history = snapshot.pair_history
    rows = (history["outcome"].to_numpy() == outcome) & ~(history["answered_day"].to_numpy() < since_day)
    return np.unique(
        snapshot.pair_keys(history["search_row"].to_numpy()[rows], history["therapist_row"].to_numpy()[rows])
    )


def procedure_failures(
    therapist_mask: np.ndarray, age_mask: np.ndarray, wish_mask: np.ndarray, setting_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (age_group, procedure, setting) failures from 16-bit entry masks (see core.matching.snapshot).

    Checked in that order, each among the entries that passed the earlier checks (or all entries when
    none did), so a therapist offering VT for adults and TP for children fails "procedure" for an adult
    who wishes TP, and every real mismatch is named.
    """
    offers = therapist_mask != 0
    age_fail = offers & ((therapist_mask & age_mask) == 0)
    base = np.where(age_fail, ALL_ENTRIES, age_mask)
    procedure_fail = (therapist_mask & base & wish_mask) == 0
    base = base & np.where(procedure_fail, ALL_ENTRIES, wish_mask)
    setting_fail = offers & ((therapist_mask & base & setting_mask) == 0)
    return age_fail, procedure_fail, setting_fail


def evaluate(
    snapshot: Snapshot,
    search_rows: np.ndarray,
    therapist_rows: np.ndarray,
    distance_km: np.ndarray,
    *,
    settings: FilterSettings,
) -> FilterResult:
    """Return which rules each (search row, therapist row) pair fails; ``distance_km`` is NaN when unknown."""
    s = np.asarray(search_rows, dtype=np.int64)
    t = np.asarray(therapist_rows, dtype=np.int64)
    km = np.asarray(distance_km, dtype=float)
    S, T, P = snapshot.searches, snapshot.therapists, snapshot.practices

    def search(column: str) -> np.ndarray:
        return S[column].to_numpy()[s]

    def therapist(column: str) -> np.ndarray:
        return T[column].to_numpy()[t]

    practice_rows = therapist("practice_row")

    def practice(column: str) -> np.ndarray:
        return P[column].to_numpy()[practice_rows]

    failed: dict[str, np.ndarray] = {}
    failed["search_inactive"] = ~search("active")
    failed["location_missing"] = np.isnan(km)
    with np.errstate(invalid="ignore"):
        failed["too_far"] = km > search("limit_km")
        failed["travel_time"] = travel_minutes(snapshot, s, km) > search("limit_minutes")
    failed["age_group"], failed["procedure"], failed["setting"] = procedure_failures(
        therapist("procedure_mask"), search("age_mask"), search("procedure_mask"), search("setting_mask")
    )
    wish = search("wish_code")
    failed["therapist_gender"] = (wish >= 0) & ~search("relaxed_gender") & (therapist("gender_code") != wish)
    age = search("age").astype(float)
    with np.errstate(invalid="ignore"):
        failed["patient_age"] = (age < therapist("age_min")) | (age > therapist("age_max"))
    preference = therapist("pref_gender_code")
    failed["patient_gender"] = (preference >= 0) & (search("gender_code") != preference)
    checked = np.flatnonzero(therapist("has_focus") & search("has_diagnosis"))  # few pairs: a focus is rare
    failed["diagnosis"] = np.zeros(len(s), dtype=bool)
    failed["diagnosis"][checked] = ~_any_common(
        snapshot.search_diagnoses[s[checked]], snapshot.therapist_diagnoses[t[checked]]
    )
    failed["language"] = (
        search("has_language")
        & ~search("relaxed_language")
        & ~_any_common(snapshot.search_languages[s], snapshot.therapist_languages[t])
    )
    failed["statutory_licence"] = search("statutory") & ~therapist("statutory_licence")
    keys = snapshot.pair_keys(s, t)
    failed["excluded"] = _pairs_of_searches_in(snapshot, s, keys, snapshot.excluded_keys)
    status = therapist("status_code")
    failed["therapist_inactive"] = status == 2
    failed["therapist_blocked"] = status == 1
    with np.errstate(invalid="ignore"):
        failed["cooldown"] = practice("cooldown_day") > snapshot.today_day
    failed["open_inquiry"] = practice("open_inquiries") > 0
    failed["monthly_cap"] = practice("inquiries_30d") >= settings.match_monthly_cap
    overlap = overlap_hours(snapshot, s, t)
    relaxed_minimum = search("relaxed_min_overlap")
    minimum = np.where(np.isnan(relaxed_minimum), settings.match_min_overlap_hours, relaxed_minimum)
    with np.errstate(invalid="ignore"):
        failed["availability_overlap"] = overlap < minimum - 1e-9
    since = snapshot.today_day - settings.match_capacity_decline_days
    declined = _history_keys(snapshot, _DECLINED_CAPACITY, since)
    failed["recent_capacity_decline"] = _pairs_of_searches_in(snapshot, s, keys, declined)
    failed["unsuitable"] = _pairs_of_searches_in(snapshot, s, keys, _history_keys(snapshot, _DECLINED_UNSUITABLE))
    failed["search_saturated"] = search("open_items") >= search("max_parallel")
    failed = {code: np.asarray(failed[code], dtype=bool) for code in REASON_CODES}
    failing = np.zeros(len(s), dtype=bool)
    for mask in failed.values():  # in place: a (rules, pairs) stack would copy ~60 MB nationwide
        np.logical_or(failing, mask, out=failing)
    passed = ~failing
    return FilterResult(failed=failed, passed=passed)


# sentences for one pair ----------------------------------------------------------------------------------

# The values in a sentence are core.messages terms: English in the sentence (logs), translated by the UI.
AGE_GROUP_WORDS = {
    "adults": term("age_group.adults", "adults"),
    "children_youth": term("age_group.children_youth", "children and youth"),
}
GENDER_WORDS = {
    0: term("gender.female", "female"),
    1: term("gender.male", "male"),
    2: term("gender.diverse", "diverse"),
    3: term("gender.unknown", "of unknown gender"),
}
COUNTED = {  # English (one, many) of the counted things in the sentences
    "open inquiry": "count.open_inquiries",
    "inquiry": "count.inquiries",
}


def _counted(count: int, one: str, many: str) -> Message:
    return Message(COUNTED[one], f"{{count}} {one if count == 1 else many}", count=count)


def _day_text(day: float) -> date:
    return EPOCH + timedelta(days=int(day))


def _offered(mask: int, part: str) -> list[str]:
    names = {"procedure": PROCEDURES, "setting": SETTINGS, "age_group": AGE_GROUPS}[part]
    found = []
    for name in names:
        selector = {part: [name]}
        if mask & entries_mask(**{_plural(k): v for k, v in selector.items()}):
            found.append(name)
    return found


def _plural(part: str) -> str:
    return {"procedure": "procedures", "setting": "settings", "age_group": "ages"}[part]


def _codes(codes: list[str]) -> Message:
    return words(codes, ",") if codes else term("list.none", "none")


def _languages(codes: list[str]) -> Message:
    return words([term(f"language.{code}", code) for code in codes], ",") if codes else term("list.none", "none")


def _gender_term(value: str) -> Message:
    return term(f"gender.{value}", value)


def describe(
    snapshot: Snapshot,
    code: str,
    search_row: int,
    therapist_row: int,
    distance_km: float,
    *,
    settings: FilterSettings,
) -> Failure:
    """Return the failure of rule ``code`` for one pair as a sentence with the deciding values."""
    search = snapshot.searches.iloc[search_row]
    therapist = snapshot.therapists.iloc[therapist_row]
    practice = snapshot.practices.iloc[int(therapist["practice_row"])]
    details = _DETAILS[code](snapshot, search, therapist, practice, search_row, therapist_row, distance_km, settings)
    return Failure(code=code, sentence=Message(f"reason.{code}", SENTENCES[code], **details), details=details)


SENTENCES: dict[str, str] = {
    "search_inactive": "The search is {status}, not active; only active searches are matched.",
    "location_missing": "The {side} has no usable location, so no distance can be computed.",
    "too_far": "The practice is {km:.1f} km away; the patient's limit is {limit_km:g} km.",
    "travel_time": "The trip takes about {minutes:.0f} minutes by {mode}; the patient's limit is {limit_minutes:g} minutes.",  # noqa: E501
    "age_group": "The therapist treats {offered}; the patient is {age} and needs a therapist for {needed}.",
    "procedure": "The therapist offers {offered}; the patient wishes {wished}.",
    "setting": "The therapist offers {offered} therapy; the patient wishes {wished}.",
    "therapist_gender": "The patient wishes a {wish} therapist; the therapist is {gender}.",
    "patient_age": "The therapist takes patients aged {age_range}; the patient is {age}.",
    "patient_gender": "The therapist takes only {preference} patients; the patient is {gender}.",
    "diagnosis": "The therapist's focus {focus} covers none of the patient's diagnoses {diagnoses}.",
    "language": "The therapist speaks {therapist_languages}; the patient speaks {patient_languages}.",
    "statutory_licence": "The patient has statutory insurance; the therapist has no statutory licence (Kassensitz).",
    "excluded": "This therapist is excluded for this patient (by the patient or on the search).",
    "therapist_inactive": "The therapist is inactive and is not contacted.",
    "therapist_blocked": "The therapist is blocked{until}.",
    "cooldown": "The practice cools down after its last answer until {until}.",
    "open_inquiry": "The practice already has {open}; only one at a time is allowed.",
    "monthly_cap": "The practice had {inquiries} in the last 30 days; the limit is {cap}.",
    "availability_overlap": "The patient is available {hours:.1f} h a week on the practice's days ({days}); at least {minimum:g} h are needed.",  # noqa: E501
    "recent_capacity_decline": "The therapist declined this patient for lack of capacity on {on}; such an answer holds for {days} days.",  # noqa: E501
    "unsuitable": "The therapist declined this patient as unsuitable on {on}.",
    "search_saturated": "The search already has {open}, the most allowed at once ({cap}).",
}

DetailFunction = Callable[..., dict[str, Any]]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _missing_side(snapshot, search, therapist, *_):
    patient = np.isnan(search["latitude"]) or np.isnan(search["longitude"])
    other = np.isnan(therapist["latitude"]) or np.isnan(therapist["longitude"])
    if patient and other:
        return {"side": term("side.both", "patient and the therapist")}
    return {"side": term("side.patient", "patient") if patient else term("side.therapist", "therapist")}


def _travel(snapshot, search, therapist, practice, s, t, km, settings):
    minutes = float(travel_minutes(snapshot, np.array([s]), np.array([km]))[0])
    mode = search["transport_mode"]
    return {"minutes": float(round(minutes)), "mode": term(f"transport.{mode}", mode),
            "limit_minutes": float(search["limit_minutes"])}  # fmt: skip


def _masks(search, therapist, part):
    mask = int(therapist["procedure_mask"])
    age = int(search["age_mask"])
    if part == "procedure" and mask & age:
        mask &= age
    if part == "setting":
        for limit in (age, int(search["procedure_mask"])):
            if mask & limit:
                mask &= limit
    return mask


def _procedure(snapshot, search, therapist, *_):
    wished = [p for p in search["procedure_wishes"] if p in PROCEDURES]
    offered = _offered(_masks(search, therapist, "procedure"), "procedure")
    return {"offered": words(offered, ",") if offered else term("procedure.none", "no procedure"),
            "wished": words(wished, "or") if wished else term("procedure.any", "any procedure")}  # fmt: skip


def _setting(snapshot, search, therapist, *_):
    offered = _offered(_masks(search, therapist, "setting"), "setting")
    wish = search["setting_wish"]
    wished = term(f"setting.{wish}", "individual or group therapy" if wish == "either" else f"{wish} therapy")
    names = [term(f"setting.{name}", name) for name in offered]
    return {"offered": words(names, "and") if names else term("setting.none", "no"), "wished": wished}


def _age_group(snapshot, search, therapist, *_):
    offered = [AGE_GROUP_WORDS[a] for a in _offered(int(therapist["procedure_mask"]), "age_group")]
    needed = [AGE_GROUP_WORDS[a] for a in _offered(int(search["age_mask"]), "age_group")]
    return {"offered": words(offered, "and"), "age": int(search["age"]), "needed": words(needed, "or")}


def _age_range(therapist) -> Message:
    low, high = therapist["age_min"], therapist["age_max"]
    if np.isnan(low):
        return Message("age_range.up_to", "up to {high}", high=int(high))
    if np.isnan(high):
        return Message("age_range.from", "{low} and over", low=int(low))
    return Message("age_range.between", "{low} to {high}", low=int(low), high=int(high))


def _overlap(snapshot, search, therapist, practice, s, t, km, settings):
    hours = float(overlap_hours(snapshot, np.array([s]), np.array([t]))[0])
    relaxed = search["relaxed_min_overlap"]
    minimum = settings.match_min_overlap_hours if np.isnan(relaxed) else float(relaxed)
    days = [term(f"weekday.short.{d}", WEEKDAYS[d]) for d in range(7) if int(therapist["hours_days"]) >> d & 1]
    return {"hours": round(hours, 1), "minimum": minimum, "days": words(days, ",")}


def _history_day(snapshot: Snapshot, s: int, t: int, outcome: str) -> date | Message:
    history = snapshot.pair_history
    rows = (
        (history["search_row"].to_numpy() == s)
        & (history["therapist_row"].to_numpy() == t)
        & (history["outcome"].to_numpy() == outcome)
    )
    days = history["answered_day"].to_numpy()[rows]
    days = days[~np.isnan(days)]
    return _day_text(days.max()) if days.size else term("day.unknown", "an unknown day")


def _until(therapist) -> str | Message:
    until = therapist["status_until"]
    if until is None or until != until:  # NaN != NaN: no date
        return ""
    return Message("reason.until", " until {day}", day=until)


_DETAILS: dict[str, DetailFunction] = {
    "search_inactive": lambda snap, search, *_: {"status": term(f"search.status.{search['status']}", search["status"])},
    "location_missing": _missing_side,
    "too_far": lambda snap, search, th, pr, s, t, km, st: {
        "km": round(float(km), 1),
        "limit_km": float(search["limit_km"]),
    },
    "travel_time": _travel,
    "age_group": _age_group,
    "procedure": _procedure,
    "setting": _setting,
    "therapist_gender": lambda snap, search, th, *_: {
        "wish": term(f"gender_wish.{search['therapist_gender_wish']}", search["therapist_gender_wish"]),
        "gender": GENDER_WORDS[int(th["gender_code"])],
    },
    "patient_age": lambda snap, search, th, *_: {"age_range": _age_range(th), "age": int(search["age"])},
    "patient_gender": lambda snap, search, th, *_: {
        "preference": _gender_term({v: k for k, v in WISHES.items()}[int(th["pref_gender_code"])]),
        "gender": _gender_term({v: k for k, v in GENDERS.items()}[int(search["gender_code"])]),
    },
    "diagnosis": lambda snap, search, th, *_: {
        "focus": _codes(list(th["pref_diagnoses"])),
        "diagnoses": _codes(list(search["diagnoses"])),
    },
    "language": lambda snap, search, th, *_: {
        "therapist_languages": _languages(list(th["languages"])),
        "patient_languages": _languages(list(search["languages"])),
    },
    "statutory_licence": lambda *_: {},
    "excluded": lambda *_: {},
    "therapist_inactive": lambda *_: {},
    "therapist_blocked": lambda snap, search, th, *_: {"until": _until(th)},
    "cooldown": lambda snap, search, th, pr, *_: {"until": _day_text(pr["cooldown_day"])},
    "open_inquiry": lambda snap, search, th, pr, *_: {
        "count": int(pr["open_inquiries"]),
        "open": _counted(int(pr["open_inquiries"]), "open inquiry", "open inquiries"),
    },
    "monthly_cap": lambda snap, search, th, pr, s, t, km, st: {
        "count": int(pr["inquiries_30d"]),
        "inquiries": _counted(int(pr["inquiries_30d"]), "inquiry", "inquiries"),
        "cap": st.match_monthly_cap,
    },
    "availability_overlap": _overlap,
    "recent_capacity_decline": lambda snap, search, th, pr, s, t, km, st: {
        "on": _history_day(snap, s, t, _DECLINED_CAPACITY),
        "days": st.match_capacity_decline_days,
    },
    "unsuitable": lambda snap, search, th, pr, s, t, *_: {"on": _history_day(snap, s, t, _DECLINED_UNSUITABLE)},
    "search_saturated": lambda snap, search, *_: {
        "count": int(search["open_items"]),
        "open": _counted(int(search["open_items"]), "open inquiry", "open inquiries"),
        "cap": int(search["max_parallel"]),
    },
}


def notes(snapshot: Snapshot, search_row: int, therapist_row: int) -> list[str]:
    """Return sentences about rules that were skipped or relaxed for one pair (for the explainer)."""
    search = snapshot.searches.iloc[search_row]
    therapist = snapshot.therapists.iloc[therapist_row]
    found = []
    if int(therapist["hours_days"]) == 0:
        found.append("The practice's hours are unknown, so the availability rule was skipped.")
    elif not bool(search["availability_known"]):
        found.append("The patient gave no availability, so the availability rule was skipped.")
    if list(therapist["pref_diagnoses"]) and not bool(search["has_diagnosis"]):
        found.append("The patient has no diagnosis yet, so the therapist's diagnosis focus was not checked.")
    found += [f"Relaxed{f' by {r.by}' if r.by else ''}: {r}." for r in search["active_relaxations"]]
    return found
