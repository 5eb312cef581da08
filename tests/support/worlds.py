"""Worlds for the simulator tests, defined here (not the demo's response model) to show the plug-in works.

``capacity_world``: practices hold a few free places that fill up when they offer one and free again
slowly; answers come within two weeks from 70 % of inquiries; a patient is offered a place with a
logistic chance that falls with distance and rises with waiting time, if the practice has a place.
``BrokenWorld`` answers with a frame that breaks the interface in a chosen way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class CapacityWorld:
    def __init__(self) -> None:
        self.places: dict[int, int] = {}
        self.last_day = 0

    def start(self, practices: pd.DataFrame, rng: np.random.Generator) -> None:
        counts = rng.poisson(1.0, size=len(practices)) + practices["therapists"].to_numpy()
        self.places = dict(zip(practices["practice_id"].astype(int), counts.astype(int).tolist(), strict=True))

    def respond(self, items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        today = int(items["day"].max()) if len(items) else self.last_day
        for _ in range(max(0, today - self.last_day)):  # one place in fifty frees up each day
            for practice in self.places:
                self.places[practice] += int(rng.random() < 0.02)
        self.last_day = today
        answered = np.zeros(len(items), dtype=bool)
        answer_day = np.full(len(items), -1)
        outcome = np.full(len(items), None, dtype=object)
        for _, rows in items.groupby("inquiry_id").indices.items():
            if rng.random() >= 0.7:
                continue
            delay = int(rng.integers(0, 14))
            for row in rows:
                practice = int(items["practice_id"].iat[row])
                km, waited = float(items["distance_km"].iat[row]), float(items["waiting_days"].iat[row])
                logit = -1.0 - 0.08 * km + 0.01 * waited
                wants = rng.random() < 1 / (1 + np.exp(-logit))
                if wants and self.places.get(practice, 0) > 0:
                    self.places[practice] -= 1
                    outcome[row] = "offered"
                else:
                    outcome[row] = "declined_capacity" if wants else "declined_other"
                answered[row] = True
                answer_day[row] = int(items["day"].iat[row]) + delay
        return pd.DataFrame({"answered": answered, "answer_day": answer_day, "outcome": outcome})


def capacity_world() -> CapacityWorld:
    return CapacityWorld()


class BrokenWorld:
    """Answers every item, but in the way ``fault`` names: "early", "outcome", "length", "columns"."""

    def __init__(self, fault: str) -> None:
        self.fault = fault

    def start(self, practices: pd.DataFrame, rng: np.random.Generator) -> None:
        pass

    def respond(self, items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        n = len(items)
        days = items["day"].to_numpy()
        frame = pd.DataFrame({"answered": [True] * n, "answer_day": days + 1, "outcome": ["offered"] * n})
        if self.fault == "early":
            frame["answer_day"] = items["day"].to_numpy() - 1
        elif self.fault == "outcome":
            frame["outcome"] = "maybe"
        elif self.fault == "length":
            frame = frame.iloc[:-1]
        elif self.fault == "columns":
            frame = frame.drop(columns="answer_day")
        return frame


def early_world() -> BrokenWorld:
    return BrokenWorld("early")
