"""The learned match model (DESIGN 4, step 3): P(offer | pair) trained on past inquiry outcomes, anchored on the prior.

A logistic regression whose offset is the prior's log-odds (``score.PriorModel``), so it starts from what the
prior knows and learns only what the answers say differently:

    log-odds = intercept + sum_k (1 + d_k) * prior_term_k + sum_j w_j * basis_j (standardised)

- ``d_k`` rescales each of the prior's eight terms (``score.FACTOR_CODES``); ``basis_j`` are a few plain
  shapes the prior lacks (``BASIS``: linear rates, "reported yes/no" without the decay, "never contacted",
  unknown hours, waiting beyond half a year). Every d and w is pulled toward 0 by an L2 penalty, i.e.
  toward the prior: with few answers the model *is* the prior, recalibrated; with many it follows the data.
- The penalty's strength is chosen by cross-validated log loss on the training rows themselves
  (``FOLDS`` contiguous blocks, so the newest answers are also predicted from older ones), never by looking
  at outcomes elsewhere.
- Calibration: a Platt step (slope and intercept) fitted on those out-of-fold log-odds, as scikit-learn's
  ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` does.
- A farther therapist never scores higher: the distance term's factor (1 + d) is bounded below by 0 and the
  calibration slope is never negative.

Explanations: the score is a sum, so a factor's weight is exactly its part of the log-odds (its prior term,
rescaled, plus its basis terms, each centred on its training mean), 0 for a typical pair, positive helps; the
codes and sentences are the prior's, so pages translate them the same way.

Cost: one design matrix (n x 21, float64) and L-BFGS-B with an analytic gradient; no per-row Python.
``tests/benchmarks/test_bench_training.py`` times 1,000,000 items against scikit-learn's LogisticRegression.

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
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from core.errors import ValidationError
from core.matching.proposals import Factor
from core.matching.score import FACTOR_CODES, FEATURE_COLUMNS, PriorModel, explain_rows
from core.messages import Message

MODEL_KIND = "learned-prior-logit"
HALF_YEAR_DAYS = 182.0  # the prior's waiting term stops growing at 26 weeks; the data may say it should not


def _basis(f: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """Return (factor code, column) per basis function: shapes the prior's terms cannot take."""
    known = lambda column: ~np.isnan(f[column])  # noqa: E731
    return [
        ("accepting", (f["accepting"] == 1).astype(float)),  # without the prior's decay by report age
        ("accepting", (f["accepting"] == 0).astype(float)),
        ("response_rate", np.nan_to_num(f["response_rate"], nan=0.74)),  # linear, not log
        ("acceptance_rate", np.nan_to_num(f["acceptance_rate"], nan=0.06)),
        ("recent_contact", (~known("days_since_contact")).astype(float)),  # never contacted
        ("data_freshness", np.minimum(np.nan_to_num(f["data_age_days"], nan=0.0), 3 * 365.0)),
        ("data_freshness", (~known("data_age_days")).astype(float)),
        ("availability", (~known("overlap_hours")).astype(float)),
        ("waiting_time", np.clip(np.nan_to_num(f["waiting_days"]) - HALF_YEAR_DAYS, 0, 2 * 365.0)),
    ]


BASIS = tuple(code for code, _ in _basis({c: np.zeros(1) for c in FEATURE_COLUMNS}))
PENALTIES = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001)  # L2 strengths tried, strongest first
FOLDS = 4
CV_MAX_ROWS = 100_000  # at this size the penalty hardly matters (on 200,000 of 1,000,000 rows the weakest won)
MIN_ROWS = 50  # fewer rows (or no offer / no non-offer among them) cannot train anything honest
# one BLAS thread: on this busy 2-core machine threads spin-wait each other (measured on 40,000 rows: 224 s
# wall for 37 s of CPU with the default threads)
BLAS_THREADS = 1
PROBABILITY_FLOOR = 1e-4  # a score of exactly 0 would never be explored or logged
DISTANCE = FACTOR_CODES.index("distance")


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


def design(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the prior's terms (rows, len(FACTOR_CODES)) and the raw basis columns (rows, len(BASIS))."""
    values = feature_matrix(features)
    f = {column: values[:, j] for j, column in enumerate(FEATURE_COLUMNS)}
    frame = pd.DataFrame(f, copy=False)
    prior_terms = np.nan_to_num(PriorModel().contributions(frame), nan=0.0, posinf=0.0, neginf=0.0)
    basis = np.column_stack([column for _, column in _basis(f)])
    return prior_terms, basis


@dataclass
class LearnedModel:
    """The prior, rescaled and extended by what the answers say; implements ``score.MatchModel``."""

    intercept: float
    scale: np.ndarray  # per FACTOR_CODES: the factor the prior's term is multiplied by
    weights: np.ndarray  # per BASIS column, on the raw scale (after calibration)
    center: np.ndarray  # per BASIS column: the training mean (a typical pair's value)
    prior_center: np.ndarray  # per FACTOR_CODES: the training mean of the prior's term
    name: str = "learned"
    version: int | None = None  # the registry's version number once registered (core.models_registry)
    trained_rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)  # fit parameters and seconds, for the registry

    def contributions(self, features: pd.DataFrame) -> np.ndarray:
        """Return the (rows, len(FACTOR_CODES)) log-odds parts per factor; they add up to the score."""
        prior_terms, basis = design(features)
        weights = (prior_terms - self.prior_center) * self.scale
        basis_parts = (basis - self.center) * self.weights
        for j, code in enumerate(BASIS):
            weights[:, FACTOR_CODES.index(code)] += basis_parts[:, j]
        return weights

    def log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Return the calibrated log-odds per row."""
        return self.intercept + self.contributions(features).sum(axis=1)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return the calibrated P(the practice offers this patient a place) per row."""
        if not len(features):
            return np.zeros(0)
        return np.clip(expit(self.log_odds(features)), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Factor, ...]]]:
        """Return the calibrated probabilities and, per row, the largest factor weights as factors."""
        if not len(features):
            return np.zeros(0), []
        contributions = self.contributions(features)
        probabilities = np.clip(
            expit(self.intercept + contributions.sum(axis=1)), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR
        )
        return probabilities, explain_rows(features, contributions)

    def feature_effects(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return per factor the mean, mean |.| and spread of its weight over ``features`` (model page)."""
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


def _fit_penalised(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    offset: np.ndarray,
    *,
    penalty: float,
    start: np.ndarray,
    bounds: list[tuple[float | None, float | None]],
) -> np.ndarray:
    """Return theta minimising the weighted mean log loss of offset + x @ theta + penalty / 2 * |theta[1:]|^2."""
    total = float(weight.sum())

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ theta
        loss = -float(weight @ (y * log_expit(z) + (1 - y) * log_expit(-z))) / total
        gradient = x.T @ (weight * (expit(z) - y)) / total
        loss += 0.5 * penalty * float(theta[1:] @ theta[1:])
        gradient[1:] += penalty * theta[1:]
        return loss, gradient

    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 500, "gtol": 1e-7})  # fmt: skip
    return result.x


def _weighted_log_loss(z: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    return -float(weight @ (y * log_expit(z) + (1 - y) * log_expit(-z))) / float(weight.sum())


def _choose_penalty(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, offset: np.ndarray, bounds: list, start: np.ndarray, seed: int
) -> tuple[float, np.ndarray, np.ndarray, list[float]]:
    """Return the penalty with the least out-of-fold log loss, its out-of-fold log-odds, their rows, all losses."""
    rows = np.arange(len(y))
    if len(rows) > CV_MAX_ROWS:  # a random subset, kept in the given (time) order
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), CV_MAX_ROWS, replace=False))
    held_out = np.full((len(PENALTIES), len(rows)), np.nan)
    for block in np.array_split(np.arange(len(rows)), FOLDS):
        fit_rows = np.delete(rows, block)
        if y[fit_rows].min() == y[fit_rows].max():
            continue  # a block without both outcomes to learn from predicts nothing honest
        theta = start.copy()
        fit_x, fit_y, fit_weight, fit_offset = x[fit_rows], y[fit_rows], weight[fit_rows], offset[fit_rows]
        for k, penalty in enumerate(PENALTIES):  # strongest first: each fit starts from the previous one
            theta = _fit_penalised(fit_x, fit_y, fit_weight, fit_offset, penalty=penalty, start=theta, bounds=bounds)
            held_out[k, block] = offset[rows[block]] + x[rows[block]] @ theta
    covered = ~np.isnan(held_out[0])
    if not covered.any():
        return PENALTIES[0], np.zeros(0), rows[:0], []
    r = rows[covered]
    losses = [_weighted_log_loss(held_out[k, covered], y[r], weight[r]) for k in range(len(PENALTIES))]
    best = int(np.argmin(losses))
    return PENALTIES[best], held_out[best, covered], r, losses


def fit_learned_model(
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    name: str = "learned",
) -> LearnedModel:
    """Fit the prior-anchored logistic model on ``features`` (FEATURE_COLUMNS) and ``labels`` (1 = offered, 0 = not).

    ``seed`` only picks the rows the penalty is chosen on when there are more than CV_MAX_ROWS. Raises
    ValidationError when there are too few rows or only one kind of outcome.
    Example: ``fit_learned_model(frame, (frame_outcome == "accepted").to_numpy(), seed=1)``
    """
    started = time.perf_counter()
    y = np.asarray(labels).astype(float)
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
    prior_terms, basis = design(features)
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    center = basis.mean(axis=0)
    spread = basis.std(axis=0)
    spread[spread == 0] = 1.0  # a constant column: its weight stays 0 under the penalty
    x = np.column_stack([np.ones(len(y)), prior_terms, (basis - center) / spread])
    offset = prior_terms.sum(axis=1) + PriorModel().coefficients.intercept
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * x.shape[1]
    bounds[1 + DISTANCE] = (-1.0, None)  # (1 + d) >= 0: farther never scores higher
    start = np.zeros(x.shape[1])
    with threadpool_limits(limits=BLAS_THREADS):
        penalty, held_out, held_rows, losses = _choose_penalty(x, y, weight, offset, bounds, start, seed)
        theta = _fit_penalised(x, y, weight, offset, penalty=penalty, start=start, bounds=bounds)
    # Platt calibration on the out-of-fold log-odds: slope a >= 0, intercept b
    slope, shift = 1.0, 0.0
    if len(held_rows) and 0 < y[held_rows].sum() < len(held_rows):
        with threadpool_limits(limits=BLAS_THREADS):
            platt = _fit_penalised(np.column_stack([np.ones(len(held_rows)), held_out]), y[held_rows],
                                   weight[held_rows], np.zeros(len(held_rows)), penalty=0.0,
                                   start=np.array([0.0, 1.0]), bounds=[(None, None), (0.0, None)])  # fmt: skip
        shift, slope = float(platt[0]), float(platt[1])
    m = len(FACTOR_CODES)
    scale = slope * (1.0 + theta[1 : 1 + m])
    prior_center = prior_terms.mean(axis=0)
    intercept = shift + slope * (PriorModel().coefficients.intercept + theta[0]) + float(prior_center @ scale)
    return LearnedModel(
        intercept=float(intercept),
        scale=scale,
        weights=slope * theta[1 + m :] / spread,
        center=center,
        prior_center=prior_center,
        name=name,
        trained_rows=len(y),
        details={
            "kind": MODEL_KIND,
            "seed": seed,
            "penalty": penalty,
            "cv_log_loss": dict(zip([str(p) for p in PENALTIES], losses, strict=False)),
            "calibration": {"slope": slope, "intercept": shift},
            "calibration_rows": len(held_rows),
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
