"""Training data fixed at proposal time, labels from the answers, the time split and the off-policy estimate.

Every proposed inquiry item stores the features its score used (``inquiry_item.features``), so a training
row never sees anything that happened after the proposal. The label comes from the answer:

outcome                                     label
accepted, no_show, in_sessions              1 (the practice offered a place)
declined_capacity / _unsuitable / _other    0
no_answer                                   0
pending                                     left out (no answer yet)
withdrawn                                   left out (another practice was first: says nothing about this one)

Example:
    frame = training_frame(session, since=date(2026, 1, 1))
    train, test = time_split(frame, test_share=0.2)
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.matching.models import ItemOutcome
from core.matching.score import FEATURE_COLUMNS

OFFERED = (ItemOutcome.ACCEPTED, ItemOutcome.NO_SHOW, ItemOutcome.IN_SESSIONS)
NOT_OFFERED = (
    ItemOutcome.DECLINED_CAPACITY,
    ItemOutcome.DECLINED_UNSUITABLE,
    ItemOutcome.DECLINED_OTHER,
    ItemOutcome.NO_ANSWER,
)
TEST_SHARE = 0.2  # the newest fifth of the rows is held out
BOOTSTRAP_DRAWS = 400  # resamples for the off-policy interval; the exploration items are few, so this is cheap
FRAME_COLUMNS = (
    "item_id",
    "proposed_at",
    *FEATURE_COLUMNS,
    "model_name",
    "model_version",
    "score",
    "is_exploration",
    "selection_probability",
    "outcome",
    "label",
)


def training_frame(session: Session, *, since: date | None = None, until: datetime | None = None) -> pd.DataFrame:
    """Return one row per answered, model-scored item: its stored features, how it was chosen, its label.

    ``since`` keeps items proposed on or after that day, ``until`` those proposed before that time. The rows
    come through one COPY as CSV, the features taken apart by PostgreSQL: per-row Python over a million
    JSON documents took minutes (tests/benchmarks/test_bench_training.py).
    """
    labelled = ", ".join(f"'{outcome.value}'" for outcome in (*OFFERED, *NOT_OFFERED))  # constants, not input
    features = ", ".join(f"(features->>'{column}')::float8 AS {column}" for column in FEATURE_COLUMNS)
    where = ["features IS NOT NULL", f"outcome IN ({labelled})"]
    params: dict[str, Any] = {}
    if since is not None:
        where.append("created_at >= %(since)s")
        params["since"] = datetime.combine(since, time.min, tzinfo=UTC)
    if until is not None:
        where.append("created_at < %(until)s")
        params["until"] = until
    # S608: the SQL is built from FEATURE_COLUMNS and ItemOutcome constants; the values go through mogrify
    query = (
        "SELECT id AS item_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') AS proposed_at, "  # noqa: S608
        f"{features}, model_name, model_version, score, is_exploration, selection_probability, outcome "
        f"FROM inquiry_item WHERE {' AND '.join(where)} ORDER BY created_at, id"
    )
    session.flush()  # the COPY runs on the session's connection and transaction: it must see pending rows too
    cursor = session.connection().connection.cursor()
    try:
        buffer = io.StringIO()
        cursor.copy_expert(f"COPY ({cursor.mogrify(query, params).decode()}) TO STDOUT WITH (FORMAT csv, HEADER)",
                           buffer)  # fmt: skip
    finally:
        cursor.close()
    buffer.seek(0)
    read = pd.read_csv(buffer, dtype={column: float for column in (*FEATURE_COLUMNS, "score", "selection_probability")},
                       keep_default_na=False, na_values=[""])  # fmt: skip
    frame = pd.DataFrame(
        {
            "item_id": read["item_id"].astype(int),
            "proposed_at": pd.to_datetime(read["proposed_at"], format="%Y-%m-%dT%H:%M:%S.%f", utc=True),
        }
    )
    frame = pd.concat([frame, read.loc[:, list(FEATURE_COLUMNS)].astype(float)], axis=1)
    frame["model_name"] = read["model_name"].astype(object).where(read["model_name"].notna(), None)
    frame["model_version"] = [None if version != version else int(version) for version in read["model_version"]]
    frame["score"] = read["score"].astype(float)
    frame["is_exploration"] = (read["is_exploration"] == "t").to_numpy(dtype=bool)
    frame["selection_probability"] = read["selection_probability"].astype(float)
    frame["outcome"] = read["outcome"].astype(str)
    offered = {outcome.value for outcome in OFFERED}
    frame["label"] = frame["outcome"].isin(offered).to_numpy(dtype=int)
    return frame.loc[:, list(FRAME_COLUMNS)]


def time_split(frame: pd.DataFrame, *, test_share: float = TEST_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by proposal time: the oldest rows train, the newest ``test_share`` test; one day is never split."""
    if frame.empty:
        return frame, frame
    ordered = frame.sort_values(["proposed_at", "item_id"], kind="stable")
    days = ordered["proposed_at"].dt.floor("D")
    cut = days.iloc[min(int(len(ordered) * (1 - test_share)), len(ordered) - 1)]
    return ordered[days < cut].reset_index(drop=True), ordered[days >= cut].reset_index(drop=True)


def _top_share_rate(scores: np.ndarray, weights: np.ndarray, labels: np.ndarray, picked_weight: float) -> float:
    """Return the weighted offer rate of the highest-scored rows that make up ``picked_weight`` of the weight."""
    order = np.argsort(-scores, kind="stable")
    cumulative = np.cumsum(weights[order])
    last = int(np.searchsorted(cumulative, picked_weight)) + 1
    top = order[: max(1, min(last, len(order)))]
    return float(np.sum(weights[top] * labels[top]) / np.sum(weights[top]))


def off_policy_offers(
    test: pd.DataFrame,
    scores: dict[str, np.ndarray],
    *,
    share: float,
    seed: int = 0,
    draws: int = BOOTSTRAP_DRAWS,
) -> dict[str, Any]:
    """Estimate the offers per 100 items each scoring would have produced, by inverse-propensity weighting.

    Only the exploration items count: each was drawn uniformly from the ``share / selection_probability``
    pairs eligible for its slot, so weighting it by ``1 / selection_probability`` stands for them all. A
    policy picks the same number of slots from that weighted pool, taking its highest-scored pairs (one in
    ``share / selection_probability`` per slot); its estimated offer rate is the weighted offer rate of
    those picks. ``scores`` maps a policy name to its scores on ``test``'s rows. The 95 % interval is a
    bootstrap over the exploration items. Returns {"exploration_items", "logged": rate of all test items,
    "<policy>": {"offers_per_100", "low", "high"}}.
    """
    explored = test["is_exploration"].to_numpy(dtype=bool) & test["selection_probability"].notna().to_numpy()
    labels = test["label"].to_numpy(dtype=float)
    result: dict[str, Any] = {
        "exploration_items": int(explored.sum()),
        "logged": {"offers_per_100": float(labels.mean() * 100) if len(labels) else None},
    }
    if explored.sum() < 2 or labels[explored].max(initial=0) == 0:
        for name in scores:
            result[name] = {"offers_per_100": None, "low": None, "high": None}
        return result
    weights = 1.0 / test["selection_probability"].to_numpy(dtype=float)[explored]
    y = labels[explored]
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(y), len(y)) for _ in range(draws)]
    for name, all_scores in scores.items():
        s = np.asarray(all_scores, dtype=float)[explored]

        def rate(index: np.ndarray, s: np.ndarray = s) -> float:
            picked = len(index) / share  # one pick per slot; each slot stands for share / p pairs of weight 1/p
            return _top_share_rate(s[index], weights[index], y[index], picked) * 100

        estimates = np.array([rate(sample) for sample in samples])
        result[name] = {
            "offers_per_100": rate(np.arange(len(y))),
            "low": float(np.quantile(estimates, 0.025)),
            "high": float(np.quantile(estimates, 0.975)),
        }
    return result
