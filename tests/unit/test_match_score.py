"""Score: the documented prior moves the probability the way its table says and explains itself in words."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from core.matching.pipeline import run_pipeline
from core.matching.proposals import Factor
from core.matching.score import (
    FEATURE_COLUMNS,
    MatchModel,
    PriorCoefficients,
    PriorModel,
    build_features,
    smoothed_rate,
    waiting_weight,
)
from tests.support.match_snapshots import NOW, SETTINGS, TODAY, practice_row, search_row, snapshot, therapist_row

TYPICAL = {
    "distance_km": 5.0,
    "overlap_hours": 6.0,
    "inquiries_closed": 0,
    "inquiries_answered": 0,
    "items_answered": 0,
    "items_offered": 0,
    "response_rate": 0.74,
    "acceptance_rate": 0.06,
    "days_since_contact": np.nan,
    "accepting": np.nan,
    "accepting_age_days": np.nan,
    "data_age_days": 30.0,
    "waiting_days": 0.0,
}


def features(**changes) -> pd.DataFrame:
    return pd.DataFrame([{**TYPICAL, **changes}], columns=list(FEATURE_COLUMNS))


def probability(**changes) -> float:
    return float(PriorModel().predict_proba(features(**changes))[0])


def test_prior__a_typical_pair_scores_the_intercept_and_has_no_factors():
    probabilities, factors = PriorModel().predict(features())
    assert probabilities[0] == pytest.approx(1 / (1 + np.exp(3.2)))  # about 3.9 %
    assert factors == [()]


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        ({"distance_km": 2.0}, {"distance_km": 25.0}),  # nearer is better
        ({"accepting": 1.0, "accepting_age_days": 10.0}, {}),  # "taking patients" beats unknown
        ({}, {"accepting": 0.0, "accepting_age_days": 10.0}),  # unknown beats "no places"
        ({"accepting": 1.0, "accepting_age_days": 10.0}, {"accepting": 1.0, "accepting_age_days": 300.0}),  # fresh
        ({"response_rate": 0.9}, {"response_rate": 0.3}),  # practices that answer
        ({"acceptance_rate": 0.2}, {"acceptance_rate": 0.02}),  # practices that offer places
        ({}, {"days_since_contact": 3.0}),  # a practice asked three days ago is likely still full
        ({"data_age_days": 30.0}, {"data_age_days": 900.0}),  # stale records
        ({"data_age_days": 30.0}, {"data_age_days": np.nan}),  # never verified
        ({"overlap_hours": 15.0}, {"overlap_hours": 2.0}),  # more common hours
        ({"waiting_days": 140.0}, {"waiting_days": 7.0}),  # mildly: long waits first
    ],
)
def test_prior__moves_the_probability_as_documented(better, worse):
    assert probability(**better) > probability(**worse)


def test_prior__capped_terms_stop_growing():
    assert probability(distance_km=40.0) == probability(distance_km=80.0)
    assert probability(waiting_days=26 * 7) == probability(waiting_days=52 * 7)


def test_prior__top_three_factors_in_words_largest_first():
    row = features(distance_km=23.0, accepting=1.0, accepting_age_days=12.0, inquiries_closed=10,
                   inquiries_answered=8, response_rate=smoothed_rate(8, 10, prior=0.74, strength=4),
                   waiting_days=70.0)  # fmt: skip
    _, factors = PriorModel().predict(row)
    assert [f.code for f in factors[0]] == ["accepting", "distance", "waiting_time"]
    assert [f.sentence for f in factors[0]] == [
        "Reported taking new patients 12 days ago",
        "23.0 km away (far)",
        "Waiting for 10 weeks",
    ]
    accepting, distance, waiting = factors[0]
    assert accepting.weight == pytest.approx(np.exp(-12 / 180))
    assert distance.weight == pytest.approx(-0.03 * 18)
    assert waiting.weight == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("changes", "code", "sentence"),
    [
        ({"accepting": 0.0, "accepting_age_days": 1.0}, "accepting", "Reported taking no new patients 1 day ago"),
        ({"accepting": 1.0}, "accepting", "Reported taking new patients (date unknown)"),
        ({"distance_km": 1.2}, "distance", "1.2 km away (close)"),
        ({"inquiries_closed": 6, "inquiries_answered": 0, "response_rate": smoothed_rate(0, 6, prior=0.74, strength=4)},
         "response_rate", "The practice answered 0 of 6 inquiries"),
        ({"items_answered": 30, "items_offered": 9, "acceptance_rate": smoothed_rate(9, 30, prior=0.06, strength=20)},
         "acceptance_rate", "The practice offered a place to 9 of 30 patients it answered about"),
        ({"days_since_contact": 0.2}, "recent_contact", "The practice was last contacted today"),
        ({"data_age_days": np.nan}, "data_freshness", "The therapist's details were never verified"),
        ({"data_age_days": 700.0}, "data_freshness", "Details verified 700 days ago"),
        ({"overlap_hours": 18.0}, "availability", "The patient is available 18.0 h a week on the practice's days"),
    ],
)  # fmt: skip
def test_prior__each_factor_has_a_sentence(changes, code, sentence):
    _, factors = PriorModel().predict(features(**changes))
    assert factors[0][0].code == code
    assert factors[0][0].sentence == sentence


def test_prior__predict_and_predict_proba_agree():
    rng = np.random.default_rng(1)
    rows = pd.DataFrame([{**TYPICAL, "distance_km": d} for d in rng.uniform(0, 40, 50)])
    probabilities, factors = PriorModel().predict(rows)
    assert np.allclose(probabilities, PriorModel().predict_proba(rows))
    assert len(factors) == 50
    assert all(len(f) <= 3 for f in factors)


def test_prior__coefficients_can_be_replaced():
    bold = PriorModel(PriorCoefficients(intercept=0.0))
    assert bold.predict_proba(features())[0] == pytest.approx(0.5)


def test_smoothed_rate__is_the_prior_without_data_and_the_rate_with_much():
    assert smoothed_rate(0, 0, prior=0.74, strength=4) == pytest.approx(0.74)
    assert smoothed_rate(500, 1000, prior=0.74, strength=4) == pytest.approx(0.5, abs=0.001)


@pytest.mark.parametrize(("days", "weight"), [(0, 1.0), (91, 1.5), (182, 2.0), (364, 3.0), (-5, 1.0)])
def test_waiting_weight__half_a_year_counts_double(days, weight):
    assert waiting_weight(np.array([days]))[0] == pytest.approx(weight)


def test_build_features__read_the_snapshot():
    snap = snapshot(
        [search_row(started_on=TODAY - timedelta(days=21))],
        [therapist_row(accepting_patients=True, accepting_confirmed_on=TODAY - timedelta(days=4))],
        [practice_row(inquiries_closed=3, inquiries_answered=2, items_answered=5, items_offered=1,
                      last_contacted_at=NOW - timedelta(days=10))],
    )  # fmt: skip
    row = build_features(snap, np.array([0]), np.array([0]), np.array([2.0])).iloc[0]
    assert list(row.index) == list(FEATURE_COLUMNS)
    assert row["overlap_hours"] == 10.0  # Monday 08-18, the practice's day
    assert row["response_rate"] == pytest.approx((2 + 0.74 * 4) / (3 + 4))
    assert row["acceptance_rate"] == pytest.approx((1 + 0.06 * 20) / (5 + 20))
    assert (row["accepting"], row["accepting_age_days"], row["waiting_days"]) == (1.0, 4.0, 21.0)
    assert row["days_since_contact"] == pytest.approx(10.0)
    assert row["data_age_days"] == 30.0


class LearnedModel:
    """What a trained scikit-learn model looks like behind the interface (fitted on made-up outcomes here)."""

    name = "logistic-test"

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 30, (200, 1))
        self.model = LogisticRegression().fit(x, (rng.uniform(size=200) < 0.3 - x[:, 0] / 150).astype(int))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(features[["distance_km"]].to_numpy())[:, 1]

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Factor, ...]]]:
        weights = self.model.coef_[0, 0] * features["distance_km"].to_numpy()
        distances = features["distance_km"].to_numpy()
        factors = [(Factor("distance", f"{d:.1f} km away", w),) for d, w in zip(distances, weights, strict=True)]
        return self.predict_proba(features), factors


def test_match_model__a_learned_model_plugs_into_the_pipeline():
    model: MatchModel = LearnedModel()
    result = run_pipeline(snapshot(), now=NOW, settings=SETTINGS, rng=np.random.default_rng(0), model=model)
    assert result.stats["model"] == "logistic-test"
    (inquiry,) = result.inquiries
    assert inquiry.items[0].factors[0].code == "distance"
    assert inquiry.items[0].score == pytest.approx(
        model.predict_proba(pd.DataFrame({"distance_km": [2.0]}))[0], abs=1e-6
    )


def random_features(rows: int, seed: int) -> pd.DataFrame:
    """Feature rows with few distinct values (as nationwide) and NaNs where a feature may be unknown."""
    rng = np.random.default_rng(seed)

    def some(values, nan_share=0.0):
        column = rng.choice(np.asarray(values, dtype=float), rows)
        column[rng.random(rows) < nan_share] = np.nan
        return column

    closed = some(range(0, 12))
    answered = np.minimum(some(range(0, 12)), closed)
    items_answered = some(range(0, 30))
    offered = np.minimum(some(range(0, 5)), items_answered)
    return pd.DataFrame(
        {
            "distance_km": rng.uniform(0, 45, rows),  # rounded sentences: 4.95 and 5.04 both say "5.0 km"
            "overlap_hours": some(np.round(rng.uniform(0, 30, 50), 2), nan_share=0.2),
            "inquiries_closed": closed,
            "inquiries_answered": answered,
            "items_answered": items_answered,
            "items_offered": offered,
            "response_rate": smoothed_rate(answered, closed, prior=0.74, strength=4.0),
            "acceptance_rate": smoothed_rate(offered, items_answered, prior=0.06, strength=20.0),
            "days_since_contact": some(range(0, 400), nan_share=0.3),
            "accepting": some([0.0, 1.0], nan_share=0.3),
            "accepting_age_days": some(range(0, 500), nan_share=0.3),
            "data_age_days": some(range(0, 900), nan_share=0.2),
            "waiting_days": some(range(0, 400)),
        }
    )


def fractional_days(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same rows with day counts as the database gives them (136.42 days), many near a half day."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    for column in ("days_since_contact", "accepting_age_days", "data_age_days"):
        shift = rng.choice([0.5, -0.5, 0.4999999, 0.5000001, 0.0, 0.25], len(frame)) + rng.uniform(-1e-3, 1e-3)
        frame[column] = np.maximum(frame[column] + shift * (rng.random(len(frame)) < 0.7), 0)
    return frame


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("days", ["whole", "fractional"])
def test_explain_rows__says_what_each_row_says_alone_when_sentences_are_shared(seed, days):
    from core.matching.score import FACTOR_CODES, MIN_FACTOR_WEIGHT, TOP_FACTORS, explain_rows, factor_sentence

    frame = random_features(3_000, seed)
    if days == "fractional":  # rows whose days round alike share one sentence
        frame = fractional_days(frame, seed)
    contributions = PriorModel().contributions(frame)
    explained = explain_rows(frame, contributions)

    for row, factors in enumerate(explained):  # the definition: each row's sentences built from that row alone
        values = {column: float(frame[column].iloc[row]) for column in FEATURE_COLUMNS}
        strongest = np.argsort(-np.abs(contributions[row]), kind="stable")[:TOP_FACTORS]
        expected = [
            (FACTOR_CODES[k], factor_sentence(FACTOR_CODES[k], values), float(contributions[row, k]))
            for k in strongest
            if abs(contributions[row, k]) >= MIN_FACTOR_WEIGHT
        ]
        got = [(f.code, f.sentence, f.weight) for f in factors]
        assert [(c, str(s), s.code, s.params, w) for c, s, w in got] == [
            (c, str(s), s.code, s.params, w) for c, s, w in expected
        ], row
