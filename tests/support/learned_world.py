"""A known logistic world for the learned model's tests: features like the pipeline's, labels from TRUTH."""

from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert

from core.matching.models import Inquiry, InquiryItem, InquiryStatus
from core.matching.score import FEATURE_COLUMNS
from tests.support.matching import NOW, searching_patient, therapist

# a known logistic world: log-odds = INTERCEPT + sum(coefficient * feature); the other features are noise
INTERCEPT = -2.0
TRUTH = {"distance_km": -0.08, "acceptance_rate": 8.0, "accepting": 1.2, "waiting_days": 0.004, "overlap_hours": 0.0}


def world(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Return features, labels drawn from TRUTH, and the true probabilities."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "distance_km": rng.uniform(0, 40, rows),
            "overlap_hours": np.where(rng.random(rows) < 0.3, np.nan, rng.uniform(0, 30, rows)),
            "inquiries_closed": rng.poisson(3, rows).astype(float),
            "inquiries_answered": rng.poisson(2, rows).astype(float),
            "items_answered": rng.poisson(5, rows).astype(float),
            "items_offered": rng.poisson(0.3, rows).astype(float),
            "response_rate": rng.uniform(0.3, 1, rows),
            "acceptance_rate": rng.uniform(0, 0.3, rows),
            "days_since_contact": np.where(rng.random(rows) < 0.5, np.nan, rng.uniform(0, 300, rows)),
            "accepting": rng.choice([0.0, 1.0], rows),
            "accepting_age_days": rng.uniform(0, 400, rows),
            "data_age_days": rng.uniform(0, 800, rows),
            "waiting_days": rng.uniform(0, 300, rows),
        }
    )
    logit = INTERCEPT + sum(c * np.nan_to_num(frame[column].to_numpy()) for column, c in TRUTH.items())
    truth = 1 / (1 + np.exp(-logit))
    return frame, (rng.random(rows) < truth).astype(int), truth


def answered_history(session, *, rows: int, days: int = 120, seed: int = 0, now=NOW) -> None:
    """Write ``rows`` answered items proposed over ``days`` days, labelled by the known logistic world."""
    features, labels, _ = world(rows, seed)
    rng = np.random.default_rng(seed)
    kraus = therapist(session, "Kraus")
    searches = [searching_patient(session, f"Muster{i}") for i in range(6)]
    per_inquiry = len(searches)
    count = -(-rows // per_inquiry)
    offsets = np.sort(rng.uniform(0, days, count))
    proposed = [now - timedelta(days=days) + timedelta(days=float(d)) for d in offsets]
    inquiry_ids = session.scalars(
        insert(Inquiry).returning(Inquiry.id, sort_by_parameter_order=True),
        [
            {"reference": f"M-2026-{i:06d}", "therapist_id": kraus.id, "status": InquiryStatus.ANSWERED,
             "version": 1, "created_at": at, "updated_at": at}
            for i, at in enumerate(proposed)
        ],
    ).all()  # fmt: skip
    exploration = rng.random(rows) < 0.2
    items = []
    for row in range(rows):
        values = features.iloc[row]
        items.append(
            {
                "inquiry_id": inquiry_ids[row // per_inquiry],
                "search_id": searches[row % per_inquiry].id,
                "outcome": "accepted" if labels[row] else ("declined_capacity" if row % 3 else "no_answer"),
                "features": {c: (None if np.isnan(values[c]) else float(values[c])) for c in FEATURE_COLUMNS},
                "model_name": "prior-v1",
                "score": 0.05,
                "is_exploration": bool(exploration[row]),
                "selection_probability": float(0.05 / rng.integers(2, 40)) if exploration[row] else None,
                "created_at": proposed[row // per_inquiry],
            }
        )
    session.execute(insert(InquiryItem), items)
