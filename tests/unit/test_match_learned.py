"""Learned model: it learns what a known world rewards, stays calibrated, and explains itself like the prior."""

import numpy as np
import pytest

from core.errors import ValidationError
from core.matching.learned import LearnedModel, evaluate, fit_learned_model
from core.matching.score import FACTOR_CODES, FEATURE_COLUMNS, MatchModel, PriorModel
from tests.support.learned_world import TRUTH, world


@pytest.fixture(scope="module")
def trained() -> LearnedModel:
    features, labels, _ = world(40_000, seed=1)
    return fit_learned_model(features, labels, seed=3)


def test_learned__implements_the_match_model_protocol(trained):
    model: MatchModel = trained
    features, _, _ = world(5, seed=2)
    probabilities, factors = model.predict(features)
    assert probabilities == pytest.approx(model.predict_proba(features))
    assert len(factors) == 5
    assert all(0 < p < 1 for p in probabilities)
    assert all(f.code in FACTOR_CODES and f.sentence for row in factors for f in row)
    assert all(len(row) <= 3 for row in factors)


def test_learned__recovers_the_signs_of_a_logistic_ground_truth(trained):
    features, _, _ = world(4_000, seed=4)
    for column, coefficient in TRUTH.items():
        if coefficient == 0:
            continue
        low, high = features.copy(), features.copy()
        low[column], high[column] = features[column].quantile(0.1), features[column].quantile(0.9)
        effect = float(np.mean(trained.log_odds(high) - trained.log_odds(low)))
        assert np.sign(effect) == np.sign(coefficient), (column, effect)


def test_learned__is_calibrated_within_a_margin_of_the_truth(trained):
    features, labels, truth = world(40_000, seed=5)
    metrics = evaluate(trained, features, labels)
    truth_brier = float(np.mean((truth - labels) ** 2))
    assert metrics["brier"] <= truth_brier + 0.002
    assert abs(metrics["mean_predicted"] - metrics["offer_rate"]) < 0.01
    for decile in metrics["calibration"]:
        assert abs(decile["predicted"] - decile["observed"]) < 0.05, decile


def test_learned__a_farther_practice_never_scores_higher(trained):
    features, _, _ = world(200, seed=6)
    near, far = features.copy(), features.copy()
    near["distance_km"], far["distance_km"] = 3.0, 30.0
    assert np.all(trained.predict_proba(far) <= trained.predict_proba(near))


def test_learned__the_factor_weights_name_what_moves_the_score(trained):
    features, _, _ = world(1, seed=7)
    close_and_open = features.assign(distance_km=1.0, accepting=1.0, acceptance_rate=0.28)
    _, factors = trained.predict(close_and_open)
    weights = {f.code: f.weight for f in factors[0]}
    assert weights.get("acceptance_rate", 0) > 0
    assert weights.get("distance", 0) > 0
    far = features.assign(distance_km=39.0)
    assert trained.contributions(far)[0, FACTOR_CODES.index("distance")] < 0


def test_learned__too_few_rows_or_no_offers_is_a_clear_error():
    features, labels, _ = world(200, seed=8)
    with pytest.raises(ValidationError, match="Keep the prior"):
        fit_learned_model(features, np.zeros(200))
    with pytest.raises(ValidationError, match="at least 50 rows"):
        fit_learned_model(features.head(10), labels[:10])
    with pytest.raises(ValidationError, match="lacks the column"):
        fit_learned_model(features.drop(columns="distance_km"), labels)


def test_evaluate__compares_the_prior_on_the_same_rows(trained):
    features, labels, _ = world(5_000, seed=9)
    learned, prior = evaluate(trained, features, labels), evaluate(PriorModel(), features, labels)
    assert learned["rows"] == prior["rows"] == 5_000
    assert learned["roc_auc"] > prior["roc_auc"]
    assert learned["log_loss"] < prior["log_loss"]
    assert [d["decile"] for d in learned["calibration"]] == list(range(1, 11))
    assert list(FEATURE_COLUMNS) == list(features.columns)


def test_factor_sentence__a_practice_never_contacted_or_without_hours_is_said_in_words():
    """A learned model may weigh unknown values, which the prior never names (seed 5 of the simulator crashed)."""
    from core.matching.score import factor_sentence

    assert factor_sentence("recent_contact", {"days_since_contact": float("nan")}).code == "factor.never_contacted"
    assert factor_sentence("availability", {"overlap_hours": float("nan")}).code == "factor.hours_unknown"


def test_learned__with_few_answers_from_the_prior_s_own_world_it_stays_the_prior():
    """Sixty days of a small service's answers must not throw away what the prior knows (issue 12)."""
    features, _, _ = world(600, seed=10)
    prior = PriorModel()
    truth = prior.predict_proba(features)
    labels = (np.random.default_rng(11).random(600) < truth).astype(int)
    model = fit_learned_model(features, labels, seed=12)
    fresh, _, _ = world(5_000, seed=13)
    prior_log_odds = np.log(prior.predict_proba(fresh) / (1 - prior.predict_proba(fresh)))
    assert np.mean(np.abs(model.log_odds(fresh) - prior_log_odds)) < 0.25
    assert np.corrcoef(model.log_odds(fresh), prior_log_odds)[0, 1] > 0.95
