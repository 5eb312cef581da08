"""Everything one matching run needs, read in a few bulk queries and laid out as frames and arrays.

The snapshot is the only part of the pipeline that reads the database; filters, scores and assignment
work on it without a session or a clock (its ``now`` is the run's time). ``build_snapshot`` turns plain
frames into a snapshot, so tests and the nationwide benchmark build one without the database.

What counts as "open" (DESIGN 3.2, contact limits):
- an inquiry is open while it is approved, queued, sent, reminded or call_scheduled
  (``OPEN_INQUIRY_STATUSES``); its pending items are the search's open items;
- an unreviewed proposal (status ``proposed``) is NOT open: a new run replaces every unreviewed proposal,
  so counting them would let yesterday's proposals block today's run;
- the monthly cap counts inquiries that left the service (every status but proposed and discarded) sent or
  approved within the last 30 days; inquiries count for their practice, or for their therapist when they
  name no practice (as ``core.matching.limits`` checks them when staff approve).

Relaxations (``search.relaxations``, a JSON list written by the matching service with who, why and when):

    {"rule": "distance", "value": 25, "by": "anna@example.org", "reason": "...", "at": "2026-03-02T09:00"}

rule                   value        effect for this search
distance               km > 0       the maximum distance becomes ``value`` km (no travel-time limit then)
travel_time            minutes > 0  the maximum travel time becomes ``value`` minutes (no distance limit then)
therapist_gender       "any"        the patient's therapist-gender wish is not applied
procedure              "any"        the patient's procedure wishes are not applied
language               "any"        no common language is required
availability_overlap   hours >= 0   the least weekly overlap with the practice's days becomes ``value`` hours
setting                "either"     individual and group settings are both acceptable

A relaxed reach replaces both limits: with a ``distance`` entry only that distance applies, else with a
``travel_time`` entry only that travel time (as ``core.matching.conflicts`` reads them). A rule relaxed
twice counts with its last entry (the service keeps one per rule). The demo history writes
``max_distance_km``, read as ``distance``. Unknown rules and unusable values are ignored and listed in
``Snapshot.ignored_relaxations`` (by search id) so a page can show them.

Example:
    with session_scope() as session:
        snapshot = load_snapshot(session, now=now, region="10")
    snapshot.searches[["search_id", "reach_km"]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.geo.travel import MODES, reachable_km
from core.matching import snapshot_reads as reads
from core.matching.models import OPEN_INQUIRY_STATUSES, Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.messages import Message
from core.patients.models import Search, SearchStatus
from core.therapists.models import Practice

RELAXATION_RULES: dict[str, str] = {
    "distance": "maximum distance in km",
    "travel_time": "maximum travel time in minutes",
    "therapist_gender": 'therapist gender "any"',
    "procedure": 'procedure "any"',
    "language": 'language "any"',
    "availability_overlap": "least weekly overlap in hours",
    "setting": 'setting "either"',
}
RELAXATION_ALIASES = {"max_distance_km": "distance"}  # written by the demo history
DEFAULT_MAX_KM = 15.0  # the patient form's default radius, used when a patient gives neither limit
MONTH = timedelta(days=30)  # the monthly cap counts inquiries in the last 30 days
EPOCH = date(1970, 1, 1)
MODE_CODES = {mode: code for code, mode in enumerate(MODES)}  # transport mode -> position in MODES
ADULT_AGE = 18  # below: children and youth therapists (KJP); from 18: adults (see core.matching.filters)

PROCEDURES = ("VT", "TP", "AP", "ST")
SETTINGS = ("individual", "group")
AGE_GROUPS = ("adults", "children_youth")
GENDERS = {"female": 0, "male": 1, "diverse": 2, "unknown": 3}
WISHES = {"female": 0, "male": 1, "any": -1}  # -1: no wish
STATUSES = {"active": 0, "blocked": 1, "inactive": 2}
ACCEPTED_OUTCOMES = (ItemOutcome.ACCEPTED, ItemOutcome.NO_SHOW, ItemOutcome.IN_SESSIONS)
ANSWERED_OUTCOMES = (
    *ACCEPTED_OUTCOMES,
    ItemOutcome.DECLINED_CAPACITY,
    ItemOutcome.DECLINED_UNSUITABLE,
    ItemOutcome.DECLINED_OTHER,
)


def procedure_bit(procedure: str, setting: str, age_group: str) -> int:
    """Return the bit of one (procedure, setting, age group) entry in a 16-bit procedure mask."""
    return 1 << (PROCEDURES.index(procedure) * 4 + SETTINGS.index(setting) * 2 + AGE_GROUPS.index(age_group))


def entries_mask(
    *, procedures: Iterable[str] = PROCEDURES, settings: Iterable[str] = SETTINGS, ages: Iterable[str] = AGE_GROUPS
) -> int:
    """Return the mask of every entry whose procedure, setting and age group are in the given sets."""
    ages, settings = list(ages), list(settings)
    return sum(procedure_bit(p, s, a) for p in procedures for s in settings for a in ages)


ALL_ENTRIES = entries_mask()


@dataclass(frozen=True)
class Relaxation:
    """One staff relaxation of a hard filter for one search."""

    rule: str  # one of RELAXATION_RULES
    value: Any
    by: str | None = None
    reason: str | None = None
    at: str | None = None

    def __str__(self) -> str:
        """Return it in words, e.g. "distance up to 25 km (no therapist within 15 km)"."""
        reason = f" ({self.reason.strip().rstrip('.')})" if self.reason else ""
        return f"{relaxation_text(self.rule, self.value)}{reason}"


def relaxation_text(rule: str, value: Any) -> str:
    """Return a relaxation in words, e.g. ("distance", 25) -> "distance up to 25 km"."""
    if rule == "distance":
        return f"distance up to {float(value):g} km"
    if rule == "travel_time":
        return f"travel time up to {float(value):g} minutes"
    if rule == "availability_overlap":
        return f"availability overlap of at least {float(value):g} h a week"
    words = {"therapist_gender": "any therapist gender", "procedure": "any procedure", "language": "any language"}
    return words.get(rule, "individual or group setting" if rule == "setting" else f"{rule} {value}")


def parse_relaxations(entries: Iterable[Mapping[str, Any]] | None) -> tuple[list[Relaxation], list[dict[str, Any]]]:
    """Return (usable relaxations in list order, ignored entries) of a search's ``relaxations`` list.

    Example: ``parse_relaxations([{"rule": "distance", "value": 25}])[0]`` -> ``[Relaxation("distance", 25.0)]``
    """
    usable, ignored = [], []
    for entry in entries or []:
        if not isinstance(entry, Mapping):
            ignored.append({"entry": entry})
            continue
        rule = RELAXATION_ALIASES.get(str(entry.get("rule")), str(entry.get("rule")))
        value = _relaxation_value(rule, entry.get("value"))
        if value is None:
            ignored.append(dict(entry))
            continue
        usable.append(Relaxation(rule, value, entry.get("by"), entry.get("reason"), entry.get("at")))
    return usable, ignored


def _relaxation_value(rule: str, value: Any) -> Any:
    if rule in {"distance", "travel_time", "availability_overlap"}:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        minimum_ok = number >= 0 if rule == "availability_overlap" else number > 0
        return number if np.isfinite(number) and minimum_ok else None
    expected = {"therapist_gender": "any", "procedure": "any", "language": "any", "setting": "either"}.get(rule)
    return value if expected is not None and value == expected else None


@dataclass(frozen=True)
class Snapshot:
    """Frames (one row per search / therapist / practice) and aligned arrays for one matching run.

    Row positions are what the pipeline passes around; the frames carry the database ids.
    """

    now: datetime
    today: date
    searches: pd.DataFrame
    therapists: pd.DataFrame
    practices: pd.DataFrame
    pair_history: pd.DataFrame  # search_row, therapist_row, outcome, answered_day (days since 1970)
    search_languages: np.ndarray  # (searches, words) uint64 bitsets over ``language_vocabulary``
    therapist_languages: np.ndarray
    language_vocabulary: tuple[str, ...]
    search_diagnoses: np.ndarray  # (searches, words) bitsets: each diagnosis and its ICD-10 ancestors
    therapist_diagnoses: np.ndarray  # (therapists, words) bitsets of the therapist's focus codes
    diagnosis_vocabulary: tuple[str, ...]
    excluded_keys: np.ndarray  # sorted search_row * therapists + therapist_row of excluded pairs
    ignored_relaxations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def today_day(self) -> int:
        return (self.today - EPOCH).days

    def pair_keys(self, search_rows: np.ndarray, therapist_rows: np.ndarray) -> np.ndarray:
        """Return one int64 key per (search row, therapist row) pair, for set lookups."""
        return np.asarray(search_rows, dtype=np.int64) * max(len(self.therapists), 1) + np.asarray(therapist_rows)

    def search_row(self, search_id: int) -> int:
        rows = np.flatnonzero(self.searches["search_id"].to_numpy() == search_id)
        return int(rows[0]) if rows.size else -1

    def therapist_row(self, therapist_id: int) -> int:
        rows = np.flatnonzero(self.therapists["therapist_id"].to_numpy() == therapist_id)
        return int(rows[0]) if rows.size else -1


# building -------------------------------------------------------------------------------------------------

SEARCH_DEFAULTS: dict[str, Any] = {
    "patient_id": 0,
    "status": "active",
    "max_parallel": 3,
    "open_items": 0,
    "insurance_type": None,
    "diagnoses": (),
    "availability": (),
    "max_distance_km": None,
    "max_travel_minutes": None,
    "transport_mode": "transit",
    "therapist_gender_wish": "any",
    "procedure_wishes": (),
    "setting_wish": "individual",
    "languages": ("de",),
    "excluded_therapist_ids": (),
    "relaxations": (),
}
SEARCH_REQUIRED = ("search_id", "started_on", "latitude", "longitude", "age", "gender")
THERAPIST_DEFAULTS: dict[str, Any] = {
    "practice_id": None,
    "status": "active",
    "status_until": None,
    "languages": ("de",),
    "statutory_licence": True,
    "pref_age_min": None,
    "pref_age_max": None,
    "pref_patient_gender": "any",
    "pref_diagnoses": (),
    "accepting_patients": None,
    "accepting_confirmed_on": None,
    "last_verified_on": None,
    "practice_hours": None,
}
THERAPIST_REQUIRED = ("therapist_id", "latitude", "longitude", "gender", "procedures")
PRACTICE_COUNTS = (
    "open_inquiries",
    "inquiries_30d",
    "inquiries_closed",
    "inquiries_answered",
    "items_answered",
    "items_offered",
)


def build_snapshot(
    *,
    now: datetime,
    today: date | None = None,
    searches: pd.DataFrame,
    therapists: pd.DataFrame,
    practices: pd.DataFrame | None = None,
    pair_history: pd.DataFrame | None = None,
) -> Snapshot:
    """Return a snapshot from plain frames (columns: see SEARCH_DEFAULTS/REQUIRED, THERAPIST_..., PRACTICE_COUNTS).

    ``practices`` rows are keyed by ``practice_key`` (the practice id, or minus the therapist id for a
    therapist without practice); practices it does not list start with no history. ``pair_history`` has
    search_id, therapist_id, outcome and answered_at of earlier answers. ``today`` is the service's
    calendar day (default: ``now``'s date); cooldowns and ages are counted in it.
    """
    return assemble_snapshot(
        now=now,
        today=today,
        searches=searches,
        therapists=derive_therapists(therapists),
        practices=practices,
        pair_history=pair_history,
    )


def derive_therapists(therapists: pd.DataFrame) -> pd.DataFrame:
    """Return the therapist frame with the filter columns (masks, codes, day numbers) the pipeline reads.

    ``procedures`` and ``practice_hours`` may be replaced by their precomputed ``procedure_mask`` and
    ``hours_days`` (as the database read computes them).
    """
    required = tuple(c for c in THERAPIST_REQUIRED if c != "procedures" or "procedure_mask" not in therapists)
    frame = _with_defaults(therapists, THERAPIST_DEFAULTS, required, "therapists").reset_index(drop=True)
    return _derive_therapists(frame)


def derive_searches(searches: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, list[dict[str, Any]]]]:
    """Return the search frame with the filter columns the pipeline reads, and the ignored relaxations by search id.

    Every row is derived on its own, so rows of several derived frames may be put together and passed to
    ``assemble_snapshot(..., searches_derived=True)`` (the simulator derives each search once, on arrival).
    """
    frame = _with_defaults(searches, SEARCH_DEFAULTS, SEARCH_REQUIRED, "searches").reset_index(drop=True)
    return _derive_searches(frame)


def assemble_snapshot(
    *,
    now: datetime,
    today: date | None,
    searches: pd.DataFrame,
    therapists: pd.DataFrame,
    practices: pd.DataFrame | None,
    pair_history: pd.DataFrame | None,
    searches_derived: bool = False,
    ignored_relaxations: dict[int, list[dict[str, Any]]] | None = None,
) -> Snapshot:
    """Return a snapshot from plain search frames and a therapist frame from ``derive_therapists``.

    With ``searches_derived`` the searches come from ``derive_searches`` (their ignored relaxations with them).
    """
    today = today or now.date()
    if searches_derived:
        searches, ignored = searches.reset_index(drop=True), dict(ignored_relaxations or {})
    else:
        searches, ignored = derive_searches(searches)
    practices, therapists = _derive_practices(practices, therapists, now)
    language_vocabulary = tuple(sorted({code for codes in searches["languages"] for code in codes}))
    focus_lists = set(map(tuple, therapists["pref_diagnoses"]))  # few distinct lists among all therapists
    diagnosis_vocabulary = tuple(sorted({code for codes in focus_lists for code in codes}))
    search_ancestors = [sorted({a for code in codes for a in icd10_ancestors(code)}) for codes in searches["diagnoses"]]
    return Snapshot(
        now=now,
        today=today,
        searches=searches,
        therapists=therapists,
        practices=practices,
        pair_history=_derive_history(pair_history, searches, therapists),
        search_languages=bitsets(searches["languages"], language_vocabulary),
        therapist_languages=bitsets(therapists["languages"], language_vocabulary),
        language_vocabulary=language_vocabulary,
        search_diagnoses=bitsets(search_ancestors, diagnosis_vocabulary),
        therapist_diagnoses=bitsets(therapists["pref_diagnoses"], diagnosis_vocabulary),
        diagnosis_vocabulary=diagnosis_vocabulary,
        excluded_keys=_excluded_keys(searches, therapists),
        ignored_relaxations=ignored,
    )


def _with_defaults(
    frame: pd.DataFrame, defaults: Mapping[str, Any], required: Sequence[str], name: str
) -> pd.DataFrame:
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {', '.join(missing)}; see core.matching.snapshot")
    frame = frame.copy()
    for column, default in defaults.items():
        if column not in frame.columns:
            frame[column] = [default] * len(frame)
    return frame


def icd10_ancestors(code: str) -> tuple[str, ...]:
    """Return the code and every code that covers it: "F45.40" -> ("F45.40", "F45.4", "F45")."""
    category, _, sub = code.partition(".")
    return (code,) + tuple(f"{category}.{sub[:n]}" for n in range(len(sub) - 1, 0, -1)) + ((category,) if sub else ())


def bitsets(lists: Iterable[Iterable[str]], vocabulary: Sequence[str]) -> np.ndarray:
    """Return an (n, words) uint64 array: bit i of a row is set when vocabulary[i] is in that row's list."""
    position = {code: i for i, code in enumerate(vocabulary)}
    # few distinct lists (a handful of language and focus combinations): each is turned into bits once
    rows = pd.Series([tuple(codes or ()) for codes in lists], dtype=object)
    row_codes, distinct = pd.factorize(rows)
    words = max(1, -(-len(vocabulary) // 64))
    bits = np.zeros((len(distinct), words), dtype=np.uint64)
    for row, codes in enumerate(distinct):
        for code in codes:
            i = position.get(code)
            if i is not None:
                bits[row, i // 64] |= np.uint64(1) << np.uint64(i % 64)
    return bits[row_codes] if len(rows) else np.zeros((0, words), dtype=np.uint64)


def _day_numbers(values: Iterable[Any]) -> np.ndarray:
    """Return days since 1970 as floats (NaN where missing) for dates or datetimes."""
    codes, uniques = pd.factorize(pd.Series(list(values) if not isinstance(values, pd.Series) else values,
                                            dtype=object))  # fmt: skip
    days = np.asarray([_day_number(value) for value in uniques] + [np.nan], dtype=float)  # few distinct days
    return days[codes]


def _day_number(value: Any) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return np.nan
    if isinstance(value, datetime):
        return float((value.date() - EPOCH).days)
    if isinstance(value, date):
        return float((value - EPOCH).days)
    return float((pd.Timestamp(value).date() - EPOCH).days)


def _float_or_nan(values: Iterable[Any]) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if series.dtype.kind in "fiub":
        return np.array(series.to_numpy(dtype=float), dtype=float)  # a copy: callers write into it
    return np.asarray([np.nan if v is None or v is pd.NA else float(v) for v in series], dtype=float)


def _codes(values: Iterable[Any], table: Mapping[str, int], missing: int) -> np.ndarray:
    """Return ``table[str(value)]`` per value (``missing`` when absent), looking up each distinct value once."""
    codes, uniques = pd.factorize(pd.Series(list(values) if not isinstance(values, pd.Series) else values,
                                            dtype=object))  # fmt: skip
    looked_up = np.asarray([table.get(str(u), missing) for u in uniques] + [table.get("None", missing)])
    return looked_up[codes]


def _availability_hours(windows: Iterable[Mapping[str, Any]]) -> list[float]:
    hours = [0.0] * 7
    for window in windows or ():
        start = _clock_minutes(str(window["start"]))
        end = _clock_minutes(str(window["end"]))
        hours[int(window["weekday"])] += max(0, end - start) / 60
    return hours


def _clock_minutes(text: str) -> int:
    hour, _, minute = text.partition(":")
    return int(hour) * 60 + int(minute or 0)


def _hours_days(hours: Mapping[str, Any] | None) -> int:
    return sum(1 << int(day) for day, windows in (hours or {}).items() if windows)


def _derive_searches(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, list[dict[str, Any]]]]:
    n = len(frame)
    limit_km = _float_or_nan(frame["max_distance_km"])
    limit_minutes = _float_or_nan(frame["max_travel_minutes"])
    relaxed = {rule: np.zeros(n, dtype=bool) for rule in ("therapist_gender", "procedure", "language", "setting")}
    min_overlap = np.full(n, np.nan)
    ignored: dict[int, list[dict[str, Any]]] = {}
    active_relaxations = []
    for row, entries in enumerate(frame["relaxations"]):
        usable, skipped = parse_relaxations(entries)
        if skipped:
            ignored[int(frame["search_id"].iat[row])] = skipped
        reach = {r.rule: r.value for r in usable if r.rule in {"distance", "travel_time"}}
        if "distance" in reach:
            limit_km[row], limit_minutes[row] = reach["distance"], np.nan
        elif "travel_time" in reach:
            limit_km[row], limit_minutes[row] = np.nan, reach["travel_time"]
        for relaxation in usable:
            if relaxation.rule in reach:
                continue
            if relaxation.rule == "availability_overlap":
                min_overlap[row] = relaxation.value
            else:
                relaxed[relaxation.rule][row] = True
        active_relaxations.append(tuple(usable))
    no_limit = np.isnan(limit_km) & np.isnan(limit_minutes)
    limit_km[no_limit] = DEFAULT_MAX_KM
    modes = [str(m) if str(m) in MODES else "transit" for m in frame["transport_mode"]]
    minutes_km = np.asarray(
        [reachable_km(m, mode) if np.isfinite(m) else np.inf for m, mode in zip(limit_minutes, modes, strict=True)]
    )
    out = frame.assign(
        transport_mode=modes,
        limit_km=limit_km,
        limit_minutes=limit_minutes,
        reach_km=np.fmin(np.where(np.isnan(limit_km), np.inf, limit_km), minutes_km),
        relaxed_gender=relaxed["therapist_gender"],
        relaxed_procedure=relaxed["procedure"],
        relaxed_language=relaxed["language"],
        relaxed_setting=relaxed["setting"],
        relaxed_min_overlap=min_overlap,
        active_relaxations=active_relaxations,
        started_day=_day_numbers(frame["started_on"]),
        age=np.asarray(frame["age"], dtype=np.int64),
        latitude=_float_or_nan(frame["latitude"]),
        longitude=_float_or_nan(frame["longitude"]),
        gender_code=np.asarray([GENDERS.get(str(g), 3) for g in frame["gender"]], dtype=np.int8),
        wish_code=np.asarray([WISHES.get(str(w), -1) for w in frame["therapist_gender_wish"]], dtype=np.int8),
        statutory=np.asarray([str(i) == "statutory" for i in frame["insurance_type"]], dtype=bool),
        max_parallel=np.asarray(frame["max_parallel"], dtype=np.int64),
        open_items=np.asarray(frame["open_items"], dtype=np.int64),
    )
    out["active"] = out["status"].to_numpy() == "active"
    out["mode_code"] = np.asarray([MODE_CODES[m] for m in modes], dtype=np.int64)
    out["has_diagnosis"] = np.asarray([bool(codes) for codes in out["diagnoses"]], dtype=bool)
    out["has_language"] = np.asarray([bool(codes) for codes in out["languages"]], dtype=bool)
    # few distinct values (two age groups, a handful of wish sets): each mask is computed once (_mask)
    adult = np.asarray(out["age"], dtype=np.int64) >= ADULT_AGE
    out["age_mask"] = np.where(adult, _mask(ages=("adults",)), _mask(ages=("children_youth",)))
    out["procedure_mask"] = [
        ALL_ENTRIES if relaxed_ or not wishes else _mask(procedures=tuple(p for p in wishes if p in PROCEDURES))
        for wishes, relaxed_ in zip(out["procedure_wishes"], out["relaxed_procedure"], strict=True)
    ]
    out["setting_mask"] = [
        ALL_ENTRIES if relaxed_ or wish == "either" else _mask(settings=(wish if wish in SETTINGS else "individual",))
        for wish, relaxed_ in zip(out["setting_wish"], out["relaxed_setting"], strict=True)
    ]
    for column in ("age_mask", "procedure_mask", "setting_mask"):
        out[column] = out[column].astype(np.int64)
    if "avail_0" in frame.columns:  # computed by the database read
        hours = out[[f"avail_{day}" for day in range(7)]].to_numpy(dtype=float).reshape(n, 7)
    else:
        hours = np.asarray([_availability_hours(w) for w in out["availability"]], dtype=float).reshape(n, 7)
    for day in range(7):
        out[f"avail_{day}"] = hours[:, day]
    out["availability_known"] = hours.sum(axis=1) > 0
    return out, ignored


@lru_cache(maxsize=512)
def _mask(
    *,
    procedures: tuple[str, ...] = PROCEDURES,
    settings: tuple[str, ...] = SETTINGS,
    ages: tuple[str, ...] = AGE_GROUPS,
) -> int:
    return entries_mask(procedures=procedures, settings=settings, ages=ages)


def _age_group(age: int) -> str:
    return "children_youth" if age < ADULT_AGE else "adults"


def _derive_therapists(frame: pd.DataFrame) -> pd.DataFrame:
    practice_id = _float_or_nan(frame["practice_id"])
    therapist_id = np.asarray(frame["therapist_id"], dtype=np.int64)
    key = np.where(np.isnan(practice_id), -therapist_id, np.nan_to_num(practice_id)).astype(np.int64)
    accepting = pd.Series(frame["accepting_patients"].to_numpy(dtype=object)).map(
        lambda a: np.nan if a is None or a is pd.NA or a != a else float(bool(a))
    )
    if "procedure_mask" in frame.columns:  # computed by the database read
        procedure_mask = frame["procedure_mask"].to_numpy(dtype=np.int64)
    else:
        procedure_mask = np.asarray([_procedures_mask(p) for p in frame["procedures"]], dtype=np.int64)
    if "hours_days" in frame.columns:
        hours_days = frame["hours_days"].to_numpy(dtype=np.int64)
    else:
        hours_days = np.asarray([_hours_days(h) for h in frame["practice_hours"]], dtype=np.int64)
    return frame.assign(
        therapist_id=therapist_id,
        practice_key=key,
        latitude=_float_or_nan(frame["latitude"]),
        longitude=_float_or_nan(frame["longitude"]),
        procedure_mask=procedure_mask,
        hours_days=hours_days,
        has_focus=np.asarray([bool(codes) for codes in frame["pref_diagnoses"]], dtype=bool),
        gender_code=_codes(frame["gender"], GENDERS, 3).astype(np.int8),
        pref_gender_code=_codes(frame["pref_patient_gender"], WISHES, -1).astype(np.int8),
        status_code=_codes(frame["status"], STATUSES, 2).astype(np.int8),
        statutory_licence=np.asarray(frame["statutory_licence"], dtype=bool),
        age_min=_float_or_nan(frame["pref_age_min"]),
        age_max=_float_or_nan(frame["pref_age_max"]),
        accepting=accepting.to_numpy(dtype=float),
        accepting_day=_day_numbers(frame["accepting_confirmed_on"]),
        verified_day=_day_numbers(frame["last_verified_on"]),
    )


def _procedures_mask(entries: Iterable[Mapping[str, str]] | None) -> int:
    mask = 0
    for entry in entries or ():
        procedure, setting, age_group = entry.get("procedure"), entry.get("setting"), entry.get("age_group")
        if procedure in PROCEDURES and setting in SETTINGS and age_group in AGE_GROUPS:
            mask |= procedure_bit(procedure, setting, age_group)
    return mask


def _derive_practices(
    practices: pd.DataFrame | None, therapists: pd.DataFrame, now: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    given = practices if practices is not None else pd.DataFrame({"practice_key": pd.Series([], dtype=np.int64)})
    given = given.assign(practice_key=given["practice_key"].astype(np.int64))
    given = given.drop_duplicates("practice_key").set_index("practice_key")
    keys = np.unique(np.concatenate([therapists["practice_key"].to_numpy(), given.index.to_numpy(dtype=np.int64)]))
    frame = given.reindex(keys)
    frame.index.name = "practice_key"
    frame = frame.reset_index()
    for column in PRACTICE_COUNTS:
        values = frame[column] if column in frame.columns else pd.Series(0, index=frame.index)
        frame[column] = pd.to_numeric(values).fillna(0).astype(np.int64).to_numpy()
    if "practice_id" not in frame.columns:
        frame["practice_id"] = np.where(frame["practice_key"] > 0, frame["practice_key"], np.nan)
    frame["cooldown_day"] = _day_numbers(frame["cooldown_until"]) if "cooldown_until" in frame else np.nan
    if "last_contacted_at" in frame:
        contacted = pd.to_datetime(frame["last_contacted_at"], utc=True)  # a naive time counts as UTC, as `now`
        stamp = pd.Timestamp(now) if now.tzinfo else pd.Timestamp(now, tz="UTC")
        frame["days_since_contact"] = ((stamp - contacted).dt.total_seconds() / 86400).to_numpy(float)
    else:
        frame["days_since_contact"] = np.full(len(frame), np.nan)
    rows = np.searchsorted(keys, therapists["practice_key"].to_numpy())
    return frame, therapists.assign(practice_row=rows.astype(np.int64))


def _derive_history(history: pd.DataFrame | None, searches: pd.DataFrame, therapists: pd.DataFrame) -> pd.DataFrame:
    columns = ["search_row", "therapist_row", "outcome", "answered_day"]
    if history is None or history.empty:
        return pd.DataFrame({c: pd.Series([], dtype=float if c == "answered_day" else np.int64) for c in columns})
    search_rows = pd.Series(np.arange(len(searches)), index=searches["search_id"].to_numpy())
    therapist_rows = pd.Series(np.arange(len(therapists)), index=therapists["therapist_id"].to_numpy())
    s = search_rows.reindex(history["search_id"].to_numpy()).to_numpy()
    t = therapist_rows.reindex(history["therapist_id"].to_numpy()).to_numpy()
    keep = ~np.isnan(s) & ~np.isnan(t)
    return pd.DataFrame(
        {
            "search_row": s[keep].astype(np.int64),
            "therapist_row": t[keep].astype(np.int64),
            "outcome": np.asarray([str(o) for o in history["outcome"]], dtype=object)[keep],
            "answered_day": _day_numbers(history["answered_at"])[keep],
        }
    )


def _excluded_keys(searches: pd.DataFrame, therapists: pd.DataFrame) -> np.ndarray:
    therapist_rows = pd.Series(np.arange(len(therapists)), index=therapists["therapist_id"].to_numpy())
    keys = []
    for row, ids in enumerate(searches["excluded_therapist_ids"]):
        for therapist_id in ids or ():
            found = therapist_rows.get(int(therapist_id))
            if found is not None:
                keys.append(row * max(len(therapists), 1) + int(found))
    return np.unique(np.asarray(keys, dtype=np.int64))


# loading --------------------------------------------------------------------------------------------------


def check_region(region: str | None) -> str | None:
    """Return a 2-digit PLZ prefix or None; raise ValidationError naming the value otherwise."""
    if region is None or str(region).strip() == "":
        return None
    text = str(region).strip()
    if len(text) != 2 or not text.isdigit():
        raise ValidationError(
            Message(
                "filter.region",
                "Region '{region}' must be the first two digits of a postcode, e.g. 10",
                region=str(region),
            ),
            field="region",
        )
    return text


def load_snapshot(
    session: Session,
    *,
    now: datetime,
    today: date | None = None,
    region: str | None = None,
    search_ids: Sequence[int] | None = None,
    therapist_ids: Sequence[int] | None = None,
) -> Snapshot:
    """Read active searches (optionally of one 2-digit PLZ region) and active therapists in a few queries.

    With ``search_ids`` / ``therapist_ids`` only those records are read, whatever their status (used by
    the "Why not?" explainer, which must report an inactive therapist or a paused search).
    """
    region = check_region(region)
    today = today or now.date()
    searches = reads.search_rows(session, today=today, region=region, search_ids=search_ids)
    therapists = _therapists(session, therapist_ids=therapist_ids)
    practice_keys = None if therapist_ids is None else sorted(set(therapists["practice_key"]))
    practices = _load_practices(session, now=now, practice_keys=practice_keys, therapists=therapists)
    items = _load_items(session, search_ids=search_ids, searches=searches, therapist_ids=therapist_ids)
    open_items = items[items["open"]].groupby("search_id").size()
    searches["open_items"] = searches["search_id"].map(open_items).fillna(0).astype(np.int64)
    history = items[~items["open"]]
    return assemble_snapshot(
        now=now, today=today, searches=searches, therapists=therapists, practices=practices, pair_history=history
    )


_THERAPIST_CACHE = reads.TherapistCache()


def forget_cached_therapists() -> None:
    """Drop the therapist side kept between runs (the next full load reads it again)."""
    _THERAPIST_CACHE.clear()


def _therapists(session: Session, *, therapist_ids: Sequence[int] | None) -> pd.DataFrame:
    """Return the derived therapist frame; the full one comes from the cache while the data version holds."""
    if therapist_ids is not None:
        return derive_therapists(reads.therapist_rows(session, therapist_ids=therapist_ids))
    version = reads.data_version(session)
    cached = _THERAPIST_CACHE.get(version)
    if cached is not None:
        return cached
    frame = derive_therapists(reads.therapist_rows(session, therapist_ids=None))
    _THERAPIST_CACHE.put(version, frame)
    return frame


def _practice_key_expression() -> Any:
    # as core.matching.limits counts them: the inquiry's practice, or its therapist when it had none
    return func.coalesce(Inquiry.practice_id, -Inquiry.therapist_id)


def _load_practices(
    session: Session, *, now: datetime, practice_keys: Sequence[int] | None, therapists: pd.DataFrame
) -> pd.DataFrame:
    key = _practice_key_expression().label("practice_key")
    open_statuses = [s.value for s in OPEN_INQUIRY_STATUSES]
    recent = or_(Inquiry.sent_at >= now - MONTH, Inquiry.approved_at >= now - MONTH)
    counted = Inquiry.status.notin_([InquiryStatus.PROPOSED, InquiryStatus.DISCARDED])
    inquiries = select(
        key,
        func.count().filter(Inquiry.status.in_(open_statuses)).label("open_inquiries"),
        func.count().filter(and_(counted, recent)).label("inquiries_30d"),
        func.count()
        .filter(Inquiry.status.in_([InquiryStatus.ANSWERED, InquiryStatus.EXPIRED]))
        .label("inquiries_closed"),
        func.count().filter(Inquiry.status == InquiryStatus.ANSWERED).label("inquiries_answered"),
    ).group_by(key)
    answered = [o.value for o in ANSWERED_OUTCOMES]
    offered = or_(InquiryItem.outcome.in_([o.value for o in ACCEPTED_OUTCOMES]), InquiryItem.is_conflict.is_(True))
    items = (
        select(
            key,
            func.count().filter(InquiryItem.outcome.in_(answered)).label("items_answered"),
            func.count().filter(offered).label("items_offered"),
        )
        .select_from(InquiryItem)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .group_by(key)
    )
    if practice_keys is not None:
        inquiries = inquiries.where(_practice_key_expression().in_(list(practice_keys)))
        items = items.where(_practice_key_expression().in_(list(practice_keys)))
    counts = _frame(session, inquiries, list(inquiries.selected_columns.keys()))
    item_counts = _frame(session, items, list(items.selected_columns.keys()))
    state = select(Practice.id, Practice.cooldown_until, Practice.last_contacted_at)
    if practice_keys is not None:
        state = state.where(Practice.id.in_(sorted({int(k) for k in therapists["practice_key"] if k > 0})))
    practice_rows = _frame(session, state, ["practice_key", "cooldown_until", "last_contacted_at"])
    frame = practice_rows.merge(counts, on="practice_key", how="outer").merge(
        item_counts, on="practice_key", how="outer"
    )
    frame["practice_id"] = [k if k > 0 else None for k in frame["practice_key"]]
    return frame


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    """Return a query's rows as a frame, built from plain tuples (a frame of Row mappings is ~10x slower)."""
    return pd.DataFrame.from_records([tuple(row) for row in session.execute(query)], columns=columns)


def _load_items(
    session: Session,
    *,
    search_ids: Sequence[int] | None,
    searches: pd.DataFrame,
    therapist_ids: Sequence[int] | None,
) -> pd.DataFrame:
    """Pending items of open inquiries (a search's open items) and 'no capacity'/'unsuitable' answers."""
    is_open = and_(
        InquiryItem.outcome == ItemOutcome.PENDING, Inquiry.status.in_([s.value for s in OPEN_INQUIRY_STATUSES])
    )
    declined = InquiryItem.outcome.in_([ItemOutcome.DECLINED_CAPACITY, ItemOutcome.DECLINED_UNSUITABLE])
    query = (
        select(
            InquiryItem.search_id,
            Inquiry.therapist_id,
            InquiryItem.outcome,
            InquiryItem.answered_at,
            case((is_open, True), else_=False).label("open"),
        )
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .where(or_(is_open, declined))
    )
    if search_ids is not None:
        query = query.where(InquiryItem.search_id.in_(list(search_ids)))
    else:
        query = query.where(InquiryItem.search_id.in_(select(Search.id).where(Search.status == SearchStatus.ACTIVE)))
    frame = _frame(session, query, ["search_id", "therapist_id", "outcome", "answered_at", "open"])
    frame["outcome"] = [str(getattr(o, "value", o)) for o in frame["outcome"]]
    frame["open"] = frame["open"].astype(bool)
    if therapist_ids is not None:
        # a search's open items count whatever the therapist; its answers matter only for the asked pair
        frame = frame[frame["open"] | frame["therapist_id"].isin(list(therapist_ids))]
    return frame.reset_index(drop=True)
