"""The world plug-in of the placement simulator: how practices answer the inquiries the pipeline sends.

``--world MODULE:FACTORY`` names a callable that takes no arguments and returns an object with two methods:

    start(practices: pandas.DataFrame, rng: numpy.random.Generator) -> None
        Called once before day 0, one row per practice (PRACTICE_COLUMNS).
    respond(items: pandas.DataFrame, rng: numpy.random.Generator) -> pandas.DataFrame
        Called once per simulated day with one row per inquiry item sent that day (ITEM_COLUMNS, in this
        order, possibly no rows). Returns one row per item, in the same order (or indexed like ``items``),
        with ANSWER_COLUMNS.

The world may keep state between calls (places that fill up, practices that tire of inquiries).

Practice frame (``start``), one row per practice:
    practice_id          int
    latitude, longitude  float, the practice's location
    therapists           int, number of therapists
    therapist_ids        tuple of int
    therapist_genders    tuple of str (female, male, diverse, unknown)
    therapist_procedures tuple of str per therapist, e.g. ("VT;TP", "VT")
    accepting            tuple of the therapists' reported "takes new patients" flags (True/False/None)
    statutory_licence    tuple of bool
    languages            tuple of str per therapist, ";"-separated codes

Item frame (``respond``), one row per inquiry item sent today:
    day                    int, the simulated day the inquiry was sent (0 = first day)
    inquiry_id             int, the same for every item of one inquiry
    practice_id            int
    therapist_id           int
    search_id              int
    inquiry_size           int, items in this inquiry (1..MATCH_INQUIRY_MAX_SIZE)
    distance_km            float
    travel_minutes         float, estimated door-to-door minutes in the patient's transport mode
    waiting_days           int, days since the search started
    patient_age            int
    patient_gender         str
    diagnoses              str, ICD-10 codes ";"-separated ("" when none)
    wished_procedures      str, ";"-separated ("" = any)
    therapist_procedures   str, ";"-separated procedures the therapist offers
    therapist_gender       str
    therapist_min_age      float, NaN when the therapist has no preference
    therapist_max_age      float, NaN when the therapist has no preference
    therapist_languages    str, ";"-separated
    patient_languages      str, ";"-separated
    group_ok               bool, the patient accepts group therapy
    accepting              the therapist's reported flag: True, False or None when unknown
    accepting_age_days     float, days since the flag was confirmed (NaN when unknown)
    practice_therapists    int
    inquiries_last_30_days int, this practice's inquiries in the 30 days before today (today's excluded)
    overlap_hours          float, the patient's available hours on the practice's days (NaN when unknown)
    insurance              str, statutory / private / subsidy

Answer frame (``respond`` returns), one row per item:
    answered    bool
    answer_day  int, the day the answer arrives (>= the item's ``day``; ignored when not answered)
    outcome     "offered", "declined_capacity", "declined_unsuitable", "declined_other", or None when not answered

An answer that arrives after the follow-up ladder expired the inquiry is late and counts as no answer.

Example:
    world = load_world("core.simulation.demo_world:DemoWorld")
    world.start(practices, np.random.default_rng(1))
    answers = validate_answers(world.respond(items, rng), items)
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np
import pandas as pd

from core.errors import ValidationError

PRACTICE_COLUMNS = (
    "practice_id",
    "latitude",
    "longitude",
    "therapists",
    "therapist_ids",
    "therapist_genders",
    "therapist_procedures",
    "accepting",
    "statutory_licence",
    "languages",
)
ITEM_COLUMNS = (
    "day",
    "inquiry_id",
    "practice_id",
    "therapist_id",
    "search_id",
    "inquiry_size",
    "distance_km",
    "travel_minutes",
    "waiting_days",
    "patient_age",
    "patient_gender",
    "diagnoses",
    "wished_procedures",
    "therapist_procedures",
    "therapist_gender",
    "therapist_min_age",
    "therapist_max_age",
    "therapist_languages",
    "patient_languages",
    "group_ok",
    "accepting",
    "accepting_age_days",
    "practice_therapists",
    "inquiries_last_30_days",
    "overlap_hours",
    "insurance",
)
ANSWER_COLUMNS = ("answered", "answer_day", "outcome")
OUTCOMES = ("offered", "declined_capacity", "declined_unsuitable", "declined_other")


class World(Protocol):
    """What the simulator needs of a world (see the module docstring)."""

    def start(self, practices: pd.DataFrame, rng: np.random.Generator) -> None: ...

    def respond(self, items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame: ...


class WorldError(ValidationError):
    """The world named by --world cannot be loaded or gave an unusable answer."""


def load_world(spec: str) -> World:
    """Return the world built by ``MODULE:FACTORY``, e.g. "core.simulation.demo_world:DemoWorld"."""
    module_name, _, factory_name = str(spec).partition(":")
    if not module_name or not factory_name:
        raise WorldError(
            f"World '{spec}' must be MODULE:FACTORY, e.g. core.simulation.demo_world:DemoWorld", field="world"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise WorldError(
            f"World module '{module_name}' cannot be imported ({error}); give an importable module path, "
            "e.g. core.simulation.demo_world",
            field="world",
        ) from error
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise WorldError(
            f"World module '{module_name}' has no callable '{factory_name}'; name a class or function there "
            "that returns a world",
            field="world",
        )
    world = factory()
    missing = [name for name in ("start", "respond") if not callable(getattr(world, name, None))]
    if missing:
        raise WorldError(
            f"World '{spec}' returned {type(world).__name__}, which lacks {' and '.join(missing)}(); a world needs "
            "start(practices, rng) and respond(items, rng) (see core.simulation.world)",
            field="world",
        )
    return world


def validate_answers(answers: Any, items: pd.DataFrame) -> pd.DataFrame:
    """Return the world's answers as a clean frame aligned with ``items``; raise WorldError naming the problem.

    Example: ``validate_answers(pd.DataFrame({"answered": [True], "answer_day": [3], "outcome": ["offered"]}),
    items)`` for one item sent on day 0 or later.
    """
    if not isinstance(answers, pd.DataFrame):
        raise WorldError(
            f"The world's respond() returned {type(answers).__name__}; return a pandas DataFrame with the "
            f"columns {', '.join(ANSWER_COLUMNS)}",
            field="world",
        )
    missing = [column for column in ANSWER_COLUMNS if column not in answers.columns]
    if missing:
        raise WorldError(
            f"The world's answer lacks the column(s) {', '.join(missing)}; return {', '.join(ANSWER_COLUMNS)} per item",
            field="world",
        )
    if len(answers) != len(items):
        raise WorldError(
            f"The world answered {len(answers)} rows for {len(items)} items; return exactly one row per item",
            field="world",
        )
    if not answers.index.equals(items.index):
        answers = answers.reset_index(drop=True).set_axis(items.index)
    answered = answers["answered"]
    if not all(isinstance(value, bool | np.bool_) for value in answered):
        bad = next(value for value in answered if not isinstance(value, bool | np.bool_))
        raise WorldError(f"The world's 'answered' holds {bad!r}; use True or False", field="world")
    answered = answered.to_numpy(dtype=bool)
    outcome = answers["outcome"].to_numpy(dtype=object)
    for row in np.flatnonzero(answered):
        if outcome[row] not in OUTCOMES:
            raise WorldError(
                f"The world answered item {_label(items, row)} with outcome {outcome[row]!r}; use one of "
                f"{', '.join(OUTCOMES)}",
                field="world",
            )
    for row in np.flatnonzero(~answered):
        if not _missing(outcome[row]):
            raise WorldError(
                f"The world gave item {_label(items, row)} the outcome {outcome[row]!r} but answered=False; "
                "an unanswered item has the outcome None",
                field="world",
            )
    days = pd.to_numeric(answers["answer_day"], errors="coerce").to_numpy(dtype=float)
    sent = items["day"].to_numpy(dtype=float)
    for row in np.flatnonzero(answered):
        if not np.isfinite(days[row]) or days[row] != np.floor(days[row]):
            raise WorldError(
                f"The world's answer_day for item {_label(items, row)} is {answers['answer_day'].iat[row]!r}; "
                "give a whole day number",
                field="world",
            )
        if days[row] < sent[row]:
            raise WorldError(
                f"The world answers item {_label(items, row)} on day {int(days[row])}, before it was sent on day "
                f"{int(sent[row])}; an answer arrives on the day of sending or later",
                field="world",
            )
    return pd.DataFrame(
        {
            "answered": answered,
            "answer_day": np.where(answered, np.nan_to_num(days, nan=-1), -1).astype(np.int64),
            "outcome": pd.Series(np.where(answered, outcome, None), index=items.index, dtype=object),
        },
        index=items.index,
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _label(items: pd.DataFrame, row: int) -> str:
    return f"(inquiry {int(items['inquiry_id'].iat[row])}, search {int(items['search_id'].iat[row])})"
