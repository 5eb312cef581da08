"""The learned match model (DESIGN 4, step 3): P(offer | pair) trained on past inquiry outcomes.

A scikit-learn ``HistGradientBoostingClassifier`` over the prior's feature frame (``score.FEATURE_COLUMNS``,
missing values kept as NaN: the booster learns where they go), constrained to never score a farther
therapist higher (monotone decreasing in ``distance_km``), then calibrated on a held-out slice of the
training rows (isotonic with enough rows, a Platt sigmoid below that). ``LearnedModel`` implements the
same ``MatchModel`` protocol as the prior, so the pipeline, the simulator and the review pages use it
unchanged.

Explanations: boosted trees have no coefficients, so a factor's weight is an *ablation*: the booster's
log-odds for the pair minus its log-odds when that factor's features are set to a typical pair's values
(the training medians; NaN where most rows have no value). Like the prior's terms, every weight is 0 for
a typical pair, positive helps, and the codes and sentences are the prior's (``score.FACTOR_CODES``), so
pages translate them the same way. Unlike the prior's, the weights need not add up to the score:
features interact in the trees, and the weights are measured before calibration. Cost: one extra
booster prediction per factor for the explained rows only (the pipeline explains just the chosen items).

Example:
    model = fit_learned_model(features, labels, seed=7)   # features: FEATURE_COLUMNS, labels: 1 = offered
    probabilities, factors = model.predict(features.head(3))
    evaluate(model, test_features, test_labels)["brier"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from core.errors import ValidationError
from core.matching.proposals import Factor
from core.matching.score import FACTOR_CODES, FEATURE_COLUMNS, explain_rows
from core.messages import Message

MODEL_KIND = "learned-hgb"
# which feature columns each factor (score.FACTOR_CODES) stands for; ablating a factor resets them together
FACTOR_FEATURES: dict[str, tuple[str, ...]] = {
    "distance": ("distance_km",),
    "accepting": ("accepting", "accepting_age_days"),
    "response_rate": ("inquiries_closed", "inquiries_answered", "response_rate"),
    "acceptance_rate": ("items_answered", "items_offered", "acceptance_rate"),
    "recent_contact": ("days_since_contact",),
    "data_freshness": ("data_age_days",),
    "availability": ("overlap_hours",),
    "waiting_time": ("waiting_days",),
}
MONOTONE = {"distance_km": -1}  # a farther practice never scores higher, whatever the data's noise says
CALIBRATION_SHARE = 0.2  # training rows held out to calibrate the booster's probabilities
ISOTONIC_MIN_ROWS = 1_000  # below this many calibration rows isotonic steps overfit; use a sigmoid
MIN_ROWS = 50  # fewer rows (or no offer / no non-offer among them) cannot train anything honest
# one OpenMP thread: on this busy 2-core machine two threads spin-wait each other (measured: fitting 800,000
# rows took 107 s with two threads and 7.7 s with one; a 5,000-row prediction 2.7 s against 0.03 s)
OPENMP_THREADS = 1
PROBABILITY_FLOOR = 1e-4  # isotonic can say 0 or 1; a score of exactly 0 would never be explored or logged


def feature_matrix(features: pd.DataFrame) -> np.ndarray:
    """Return the FEATURE_COLUMNS of a feature frame as a float matrix (NaN = unknown), in that order."""
    missing = [column for column in FEATURE_COLUMNS if column not in features.columns]
    if missing:
        raise ValidationError(
            Message(
                "model.columns_missing",
                "The feature frame lacks the column(s) {columns}; build it with core.matching.score.build_features",
                columns=", ".join(missing),
            ),
            field="features",
        )
    return features.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype=float)


@dataclass
class LearnedModel:
    """A trained, calibrated booster with its typical pair; implements ``score.MatchModel``."""

    booster: HistGradientBoostingClassifier
    calibrator: Any  # IsotonicRegression on the booster's probability, or LogisticRegression on its log-odds
    typical: dict[str, float]
    name: str = "learned"
    version: int | None = None  # the registry's version number once registered (core.models_registry)
    trained_rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)  # fit parameters and seconds, for the registry

    def log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Return the booster's log-odds per row, before calibration (the scale of the factor weights)."""
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            return self.booster.decision_function(feature_matrix(features))

    def _calibrate(self, log_odds: np.ndarray) -> np.ndarray:
        if isinstance(self.calibrator, IsotonicRegression):
            probability = self.calibrator.predict(1.0 / (1.0 + np.exp(-log_odds)))
        else:
            probability = self.calibrator.predict_proba(log_odds.reshape(-1, 1))[:, 1]
        return np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return the calibrated P(the practice offers this patient a place) per row."""
        if not len(features):
            return np.zeros(0)
        return self._calibrate(self.log_odds(features))

    def contributions(self, features: pd.DataFrame) -> np.ndarray:
        """Return the (rows, len(FACTOR_CODES)) ablation weights: log-odds minus log-odds at the typical factor."""
        values = feature_matrix(features)
        weights = np.zeros((len(values), len(FACTOR_CODES)))
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            base = self.booster.decision_function(values)
            for k, code in enumerate(FACTOR_CODES):
                ablated = values.copy()
                for column in FACTOR_FEATURES[code]:
                    ablated[:, FEATURE_COLUMNS.index(column)] = self.typical[column]
                weights[:, k] = base - self.booster.decision_function(ablated)
        return weights

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Factor, ...]]]:
        """Return the calibrated probabilities and, per row, the largest ablation weights as factors."""
        if not len(features):
            return np.zeros(0), []
        probabilities = self.predict_proba(features)
        return probabilities, explain_rows(features, self.contributions(features))

    def feature_effects(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return per factor the mean, mean |.| and spread of its ablation weight over ``features`` (model page)."""
        weights = self.contributions(features)
        return pd.DataFrame(
            {
                "factor": list(FACTOR_CODES),
                "mean_weight": weights.mean(axis=0),
                "mean_abs_weight": np.abs(weights).mean(axis=0),
                "low": np.quantile(weights, 0.1, axis=0),
                "high": np.quantile(weights, 0.9, axis=0),
            }
        )


def _typical(values: np.ndarray) -> dict[str, float]:
    """Return the typical pair: per column the median of the known values, NaN if most rows are unknown."""
    typical = {}
    for j, column in enumerate(FEATURE_COLUMNS):
        known = values[:, j][~np.isnan(values[:, j])]
        typical[column] = float(np.median(known)) if len(known) * 2 > len(values) else float("nan")
    return typical


def fit_learned_model(
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    max_iter: int = 200,
    name: str = "learned",
) -> LearnedModel:
    """Train and calibrate the booster on ``features`` (FEATURE_COLUMNS) and ``labels`` (1 = offered, 0 = not).

    ``seed`` fixes the calibration split and the booster's early-stopping split. Raises ValidationError
    when there are too few rows or only one kind of outcome.
    Example: ``fit_learned_model(frame, (frame_outcome == "accepted").to_numpy(), seed=1)``
    """
    started = time.perf_counter()
    y = np.asarray(labels).astype(int)
    if len(y) != len(features):
        raise ValidationError(
            Message(
                "model.labels_mismatch",
                "{rows} feature rows but {labels} labels; pass one label per row",
                rows=len(features),
                labels=len(y),
            ),
            field="labels",
        )
    positives = int(y.sum())
    if len(y) < MIN_ROWS or positives == 0 or positives == len(y):
        raise ValidationError(
            Message(
                "model.too_few_rows",
                "Cannot train on {rows} rows with {offers} offers; need at least {minimum} rows with both "
                "offers and non-offers. Keep the prior until more answers arrive.",
                rows=len(y),
                offers=positives,
                minimum=MIN_ROWS,
            ),
            field="labels",
        )
    x = feature_matrix(features)
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    rng = np.random.default_rng(seed)
    calibrate = rng.random(len(y)) < CALIBRATION_SHARE
    # both slices need both outcomes; with very rare offers fall back to calibrating in-sample
    if y[calibrate].min() == y[calibrate].max() or y[~calibrate].min() == y[~calibrate].max():
        calibrate = np.ones(len(y), dtype=bool)
        train = calibrate
    else:
        train = ~calibrate
    booster = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=50,
        l2_regularization=1.0,
        monotonic_cst=[MONOTONE.get(column, 0) for column in FEATURE_COLUMNS],
        early_stopping=int(train.sum()) >= 10_000,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=seed,
    )
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        booster.fit(x[train], y[train], sample_weight=None if weight is None else weight[train])
        log_odds = booster.decision_function(x[calibrate])
    cal_weight = None if weight is None else weight[calibrate]
    if int(calibrate.sum()) >= ISOTONIC_MIN_ROWS:
        calibrator: Any = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        calibrator.fit(1.0 / (1.0 + np.exp(-log_odds)), y[calibrate], sample_weight=cal_weight)
    else:
        calibrator = LogisticRegression(C=1.0)
        calibrator.fit(log_odds.reshape(-1, 1), y[calibrate], sample_weight=cal_weight)
    return LearnedModel(
        booster=booster,
        calibrator=calibrator,
        typical=_typical(x[train]),
        name=name,
        trained_rows=len(y),
        details={
            "kind": MODEL_KIND,
            "seed": seed,
            "iterations": int(booster.n_iter_),
            "calibration": type(calibrator).__name__,
            "calibration_rows": int(calibrate.sum()),
            "positives": positives,
            "fit_seconds": round(time.perf_counter() - started, 3),
        },
    )


def calibration_by_decile(probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Return per decile of predicted probability: rows, mean predicted and observed offer rate."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=float)
    if not len(p):
        return pd.DataFrame(columns=["decile", "rows", "predicted", "observed"])
    ranks = np.argsort(np.argsort(p, kind="stable"), kind="stable")
    decile = (ranks * bins // len(p)).astype(int)
    frame = pd.DataFrame({"decile": decile + 1, "predicted": p, "observed": y})
    table = frame.groupby("decile").agg(
        rows=("predicted", "size"), predicted=("predicted", "mean"), observed=("observed", "mean")
    )
    return table.reset_index()


def evaluate(model: Any, features: pd.DataFrame, labels: np.ndarray, *, bins: int = 10) -> dict[str, Any]:
    """Return held-out metrics of any MatchModel: roc_auc (None with one class), log_loss, brier, calibration.

    Example: ``evaluate(PriorModel(), test_features, test_labels)["log_loss"]``
    """
    y = np.asarray(labels).astype(int)
    p = np.clip(np.asarray(model.predict_proba(features), dtype=float), 1e-6, 1 - 1e-6)
    both = len(y) > 0 and 0 < y.sum() < len(y)
    calibration = calibration_by_decile(p, y, bins=bins)
    return {
        "model": model.name,
        "rows": len(y),
        "offers": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "log_loss": float(log_loss(y, p, labels=[0, 1])) if len(y) else None,
        "brier": float(brier_score_loss(y, p)) if len(y) else None,
        "mean_predicted": float(p.mean()) if len(y) else None,
        "offer_rate": float(y.mean()) if len(y) else None,
        "calibration": calibration.to_dict(orient="records"),
    }
