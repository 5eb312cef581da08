"""Score (DESIGN 4, step 3): the probability that a practice offers a patient a place, with its reasons.

Any model implementing ``MatchModel`` can score: the documented prior below now, a scikit-learn model
trained on past inquiry outcomes later. Both read the same feature frame (``build_features``), one row per
(search, therapist) pair, and explain each score by its largest contributions as ``Factor``s.

The prior (``PriorModel``) adds hand-set contributions on the log-odds scale to an intercept; every term
is zero for a "typical" pair, so a factor's weight says how much it moves this pair away from typical:

term              contribution (log-odds)                                    reasoning
intercept         -3.2 (p = 3.9 %)                                           three in four practices answer, and an
                                                                             answering practice offers about one patient
                                                                             in sixteen a place (demo response model)
distance          -0.03 per km beyond 5 km, counted up to 40 km              each km costs ~3 %: 23 km more halve the
                                                                             odds (patients drop far places, practices
                                                                             prefer locals)
accepting         +1.0 if the therapist reported taking patients, -1.4 if    0.15 vs 0.06 vs 0.015 acceptance in the
                  not, times exp(-age / 180 days) (unknown age: x 0.5)       demo; a report fades over half a year
response_rate     ln(r / 0.74), r = (answered + 0.74 * 4) / (closed + 4)     practices that never answer never offer;
                                                                             4 pseudo-inquiries of prior
acceptance_rate   ln(q / 0.06), q = (offered + 0.06 * 20) / (answered + 20)  past offers per answered patient; 20
                                                                             pseudo-patients of prior
recent_contact    -0.4 * exp(-days since last contact / 45)                  a practice asked recently is likely still
                                                                             full
data_freshness    -0.3 if never verified; else -0.6 * clip((age - 180) /     stale records: moved, retired, full
                  365, 0, 1)
availability      +0.05 per hour a week on the practice's days above 6 h,    more common hours, easier to find a slot;
                  counted from 0 to 20 h; 0 when unknown                     0 when the practice's hours are unknown
waiting_time      +0.015 per week waited, up to 26 weeks                     mild: long waits are often urgent; the
                                                                             trained model will say how much

Example:
    features = build_features(snapshot, search_rows, therapist_rows, km)
    probabilities, factors = PriorModel().predict(features)
    factors[0]  # (Factor("accepting", "Reported taking new patients 12 days ago", 0.94), ...)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from core.matching.filters import overlap_hours
from core.matching.proposals import Factor
from core.matching.snapshot import Snapshot
from core.messages import Message

FEATURE_COLUMNS = (
    "distance_km",
    "overlap_hours",  # NaN: the practice's hours (or the patient's) are unknown
    "inquiries_closed",  # the practice's inquiries answered or expired
    "inquiries_answered",
    "items_answered",  # patients the practice answered about
    "items_offered",  # patients the practice offered a place
    "response_rate",  # smoothed answered / closed
    "acceptance_rate",  # smoothed offered / answered patients
    "days_since_contact",  # NaN: never contacted
    "accepting",  # 1 takes patients, 0 does not, NaN unknown
    "accepting_age_days",  # NaN: no date
    "data_age_days",  # days since last verified; NaN: never
    "waiting_days",
)
TOP_FACTORS = 3
MIN_FACTOR_WEIGHT = 0.005  # smaller contributions do not change the score visibly and are not named


class MatchModel(Protocol):
    """What the pipeline needs of a model: probabilities for all pairs, explanations for the chosen ones."""

    name: str

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return P(the practice offers this patient a place) per row."""
        ...

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Factor, ...]]]:
        """Return the probabilities and, per row, the top contributing factors (largest |weight| first)."""
        ...


@dataclass(frozen=True)
class PriorCoefficients:
    intercept: float = -3.2
    distance_per_km: float = -0.03
    distance_reference_km: float = 5.0
    distance_cap_km: float = 40.0
    accepting_yes: float = 1.0
    accepting_no: float = -1.4
    accepting_half_life_days: float = 180.0  # e-folding time of a report
    accepting_unknown_age_factor: float = 0.5
    response_prior: float = 0.74
    response_strength: float = 4.0
    acceptance_prior: float = 0.06
    acceptance_strength: float = 20.0
    recent_contact: float = -0.4
    recent_contact_days: float = 45.0
    never_verified: float = -0.3
    stale: float = -0.6
    stale_after_days: float = 180.0
    stale_full_days: float = 365.0
    overlap_per_hour: float = 0.05
    overlap_reference_hours: float = 6.0
    overlap_cap_hours: float = 20.0
    waiting_per_week: float = 0.015
    waiting_cap_weeks: float = 26.0


def smoothed_rate(successes: np.ndarray, trials: np.ndarray, *, prior: float, strength: float) -> np.ndarray:
    """Return (successes + prior * strength) / (trials + strength): the prior until data outweighs it."""
    return (np.asarray(successes, dtype=float) + prior * strength) / (np.asarray(trials, dtype=float) + strength)


def build_features(
    snapshot: Snapshot, search_rows: np.ndarray, therapist_rows: np.ndarray, distance_km: np.ndarray
) -> pd.DataFrame:
    """Return one feature row per pair (columns FEATURE_COLUMNS), from the snapshot alone."""
    s = np.asarray(search_rows, dtype=np.int64)
    t = np.asarray(therapist_rows, dtype=np.int64)
    S, T, P = snapshot.searches, snapshot.therapists, snapshot.practices
    p = T["practice_row"].to_numpy()[t]
    coefficients = PriorCoefficients()
    closed = P["inquiries_closed"].to_numpy()[p]
    answered = P["inquiries_answered"].to_numpy()[p]
    items_answered = P["items_answered"].to_numpy()[p]
    items_offered = P["items_offered"].to_numpy()[p]
    today = float(snapshot.today_day)
    return pd.DataFrame(
        {
            "distance_km": np.asarray(distance_km, dtype=float),
            "overlap_hours": overlap_hours(snapshot, s, t),
            "inquiries_closed": closed,
            "inquiries_answered": answered,
            "items_answered": items_answered,
            "items_offered": items_offered,
            "response_rate": smoothed_rate(
                answered, closed, prior=coefficients.response_prior, strength=coefficients.response_strength
            ),
            "acceptance_rate": smoothed_rate(
                items_offered,
                items_answered,
                prior=coefficients.acceptance_prior,
                strength=coefficients.acceptance_strength,
            ),
            "days_since_contact": P["days_since_contact"].to_numpy()[p],
            "accepting": T["accepting"].to_numpy()[t],
            "accepting_age_days": today - T["accepting_day"].to_numpy()[t],
            "data_age_days": today - T["verified_day"].to_numpy()[t],
            "waiting_days": today - S["started_day"].to_numpy()[s],
        }
    )


FACTOR_CODES = (
    "distance",
    "accepting",
    "response_rate",
    "acceptance_rate",
    "recent_contact",
    "data_freshness",
    "availability",
    "waiting_time",
)


class PriorModel:
    """The documented prior (see the module docstring); ``PriorModel().predict(features)``."""

    name = "prior-v1"

    def __init__(self, coefficients: PriorCoefficients | None = None) -> None:
        self.coefficients = coefficients or PriorCoefficients()

    def contributions(self, features: pd.DataFrame) -> np.ndarray:
        """Return the (rows, len(FACTOR_CODES)) log-odds contributions, each 0 for a typical pair."""
        c = self.coefficients
        f = {column: features[column].to_numpy(dtype=float) for column in FEATURE_COLUMNS}
        distance = c.distance_per_km * (np.minimum(f["distance_km"], c.distance_cap_km) - c.distance_reference_km)
        decay = np.where(
            np.isnan(f["accepting_age_days"]),
            c.accepting_unknown_age_factor,
            np.exp(-np.maximum(np.nan_to_num(f["accepting_age_days"]), 0) / c.accepting_half_life_days),
        )
        accepting = np.select([f["accepting"] == 1, f["accepting"] == 0], [c.accepting_yes, c.accepting_no], 0.0)
        contact = np.where(
            np.isnan(f["days_since_contact"]),
            0.0,
            c.recent_contact * np.exp(-np.maximum(np.nan_to_num(f["days_since_contact"]), 0) / c.recent_contact_days),
        )
        stale_share = np.clip((f["data_age_days"] - c.stale_after_days) / c.stale_full_days, 0, 1)
        freshness = np.where(np.isnan(f["data_age_days"]), c.never_verified, c.stale * np.nan_to_num(stale_share))
        overlap = np.where(
            np.isnan(f["overlap_hours"]),
            0.0,
            c.overlap_per_hour
            * (np.clip(np.nan_to_num(f["overlap_hours"]), 0, c.overlap_cap_hours) - c.overlap_reference_hours),
        )
        waiting = c.waiting_per_week * np.clip(f["waiting_days"] / 7, 0, c.waiting_cap_weeks)
        return np.column_stack(
            [
                np.nan_to_num(distance),
                accepting * decay,
                np.log(f["response_rate"] / c.response_prior),
                np.log(f["acceptance_rate"] / c.acceptance_prior),
                contact,
                freshness,
                overlap,
                np.nan_to_num(waiting),
            ]
        )

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        logits = self.coefficients.intercept + self.contributions(features).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-logits))

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Factor, ...]]]:
        contributions = self.contributions(features)
        probabilities = 1.0 / (1.0 + np.exp(-(self.coefficients.intercept + contributions.sum(axis=1))))
        return probabilities, explain_rows(features, contributions)


def explain_rows(features: pd.DataFrame, contributions: np.ndarray) -> list[tuple[Factor, ...]]:
    """Return each row's strongest factors (up to TOP_FACTORS, |weight| >= MIN_FACTOR_WEIGHT), in words.

    ``contributions`` has one column per FACTOR_CODES entry (log-odds). Values are read from plain lists, not
    numpy scalars, and each distinct sentence is built once (``_sentence_keys``): nationwide this runs for
    ~27,000 proposed items per night, whose ~80,000 sentences have only a few thousand distinct texts (issue 13).
    """
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :TOP_FACTORS].tolist()
    weights = contributions.tolist()
    columns = {column: features[column].to_numpy(dtype=float).tolist() for column in FEATURE_COLUMNS}
    keys = _sentence_keys(columns)  # per factor code: the list of each row's sentence key
    sentences: dict[tuple, Message] = {}
    factors = []
    for row, strongest in enumerate(order):
        row_weights = weights[row]
        row_factors = []
        for k in strongest:
            weight = row_weights[k]
            if abs(weight) < MIN_FACTOR_WEIGHT:
                continue
            key = keys[k][row]
            sentence = sentences.get(key)
            if sentence is None:
                sentence = sentences[key] = factor_sentence(FACTOR_CODES[k], _RowView(columns, row))
            row_factors.append(Factor(FACTOR_CODES[k], sentence, weight))
        factors.append(tuple(row_factors))
    return factors


def _sentence_keys(columns: dict[str, list[float]]) -> list[list[tuple]]:
    """Return, per FACTOR_CODES entry, each row's sentence key: everything ``factor_sentence`` reads, as it reads it.

    Equal keys, equal sentences. A NaN in a key never equals another NaN, so such a sentence is built again.
    """
    keys = []
    for code in FACTOR_CODES:
        if code == "distance":
            keys.append([(code, round(km, 1)) for km in columns["distance_km"]])
        elif code == "availability":
            keys.append([(code, h != h, round(h, 1) if h == h else h) for h in columns["overlap_hours"]])
        elif code in _DAYS_COLUMN:  # the sentence says whole days (_ago): 135.89 and 136.2 days say the same
            keys.append([(code, d != d, round(d) if d == d else d) for d in columns[_DAYS_COLUMN[code]]])
        elif code == "accepting":
            keys.append(
                [
                    (code, yes, d != d, round(d) if d == d else d)
                    for yes, d in zip(columns["accepting"], columns["accepting_age_days"], strict=True)
                ]
            )
        else:
            keys.append(list(zip(itertools.repeat(code), *(columns[c] for c in _SENTENCE_COLUMNS[code]))))
    return keys


_DAYS_COLUMN = {"recent_contact": "days_since_contact", "data_freshness": "data_age_days"}
_SENTENCE_COLUMNS = {  # the feature columns each factor's sentence reads (see factor_sentence)
    "response_rate": ("inquiries_answered", "inquiries_closed"),
    "acceptance_rate": ("items_offered", "items_answered"),
    "waiting_time": ("waiting_days",),
}


class _RowView(Mapping[str, float]):
    """One feature row as a read-only mapping over column lists (no per-row dict of every column)."""

    __slots__ = ("columns", "row")

    def __init__(self, columns: dict[str, list[float]], row: int) -> None:
        self.columns, self.row = columns, row

    def __getitem__(self, column: str) -> float:
        return self.columns[column][self.row]

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def _ago(code: str, english: str, days_value: float) -> Message:
    """Return ``english`` + "today" / "1 day ago" / "N days ago" as the message ``code``(_today) with ``count``."""
    days = round(days_value)
    if days == 0:
        return Message(f"{code}_today", f"{english} today")
    return Message(code, f"{english} {{count}} {'day' if days == 1 else 'days'} ago", count=days)


def factor_sentence(code: str, values: Mapping[str, float]) -> Message:
    """Return one factor in words from a feature row (a mapping of FEATURE_COLUMNS): message code "factor.*"."""
    if code == "distance":
        km = round(values["distance_km"], 1)
        if km <= 5:
            return Message("factor.distance_close", "{km:.1f} km away (close)", km=km)
        if km >= 20:
            return Message("factor.distance_far", "{km:.1f} km away (far)", km=km)
        return Message("factor.distance", "{km:.1f} km away", km=km)
    if code == "accepting":
        yes = values["accepting"] == 1
        key = "factor.accepting_yes" if yes else "factor.accepting_no"
        said = "Reported taking new patients" if yes else "Reported taking no new patients"
        age = values["accepting_age_days"]
        return _ago(key, said, age) if age == age else Message(f"{key}_undated", f"{said} (date unknown)")
    if code == "response_rate":
        return Message(
            "factor.response_rate",
            "The practice answered {answered} of {count} inquiries",
            answered=int(values["inquiries_answered"]),
            count=int(values["inquiries_closed"]),
        )
    if code == "acceptance_rate":
        return Message(
            "factor.acceptance_rate",
            "The practice offered a place to {offered} of {count} patients it answered about",
            offered=int(values["items_offered"]),
            count=int(values["items_answered"]),
        )
    if code == "recent_contact":
        days = values["days_since_contact"]
        if days != days:  # a learned model may weigh "never contacted" too
            return Message("factor.never_contacted", "The practice was never contacted")
        return _ago("factor.recent_contact", "The practice was last contacted", days)
    if code == "data_freshness":
        age = values["data_age_days"]
        if age != age:
            return Message("factor.never_verified", "The therapist's details were never verified")
        return _ago("factor.verified", "Details verified", age)
    if code == "availability":
        if values["overlap_hours"] != values["overlap_hours"]:
            return Message("factor.hours_unknown", "The practice's hours are unknown")
        return Message(
            "factor.availability",
            "The patient is available {hours:.1f} h a week on the practice's days",
            hours=round(values["overlap_hours"], 1),
        )
    if code == "waiting_time":
        return Message("factor.waiting_time", "Waiting for {count} weeks", count=int(values["waiting_days"] // 7))
    raise ValueError(f"Unknown factor code '{code}'; use one of {', '.join(FACTOR_CODES)}")


def waiting_weight(waiting_days: np.ndarray) -> np.ndarray:
    """Return the assignment weight of a search: 1 + waiting weeks / 26 (half a year of waiting counts double).

    Germany's average wait for therapy is about 20 weeks; the weight grows without cap so that nobody
    waits forever behind newer, easier patients. Example: 13 weeks -> 1.5.
    """
    return 1.0 + np.maximum(np.asarray(waiting_days, dtype=float), 0) / 7 / 26


def first_offer_share(open_items: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Return the chance that a search is not yet offered a place by its open items: (1 - chance) ** open_items.

    First acceptance wins (DESIGN 3.2): a new item helps a search only if none of its open items brings an
    offer first, so the assignment values it at score x this share. ``chance`` is the offer chance of one open
    item; the pipeline takes the search's best pair of the batch (its open items were chosen as its best pairs
    when they were proposed). Example: 2 open items at 0.1 each -> 0.81.
    """
    chance = np.clip(np.asarray(chance, dtype=float), 0.0, 1.0)
    return (1.0 - chance) ** np.maximum(np.asarray(open_items, dtype=float), 0.0)
