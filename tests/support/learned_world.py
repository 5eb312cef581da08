"""A known logistic world for the learned model's tests: features like the pipeline's, labels from TRUTH."""

import numpy as np
import pandas as pd

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
