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


class AgeWorld:
    """A second ground truth, unlike the demo's: distance matters little, the patient's age a lot.

    Each practice answers with its own chance (uniform 0.4-0.95), 0-20 days after the inquiry. A patient
    is offered a place with log-odds -2.3 - 0.01 per km + 0.9 under 30 years, -1.2 from 60 years on, and only
    +0.3 if the therapist reported taking patients (-0.3 if not); at most two offers per inquiry.
    Used to check the learned model on a world the prior was not written for (``--world
    tests.support.worlds:age_world``).
    """

    def __init__(self) -> None:
        self.responsiveness: dict[int, float] = {}

    def start(self, practices: pd.DataFrame, rng: np.random.Generator) -> None:
        ids = practices["practice_id"].astype(int).tolist()
        self.responsiveness = dict(zip(ids, rng.uniform(0.4, 0.95, len(ids)).tolist(), strict=True))

    def respond(self, items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        answered = np.zeros(len(items), dtype=bool)
        answer_day = np.full(len(items), -1)
        outcome = np.full(len(items), None, dtype=object)
        accepting = pd.to_numeric(items["accepting"], errors="coerce").to_numpy(dtype=float)
        age = items["patient_age"].to_numpy(dtype=float)
        logit = (
            -2.3
            - 0.01 * items["distance_km"].to_numpy(dtype=float)
            + np.where(age < 30, 0.9, 0.0)
            + np.where(age >= 60, -1.2, 0.0)
            + np.select([accepting == 1, accepting == 0], [0.3, -0.3], 0.0)
        )
        wants = rng.random(len(items)) < 1 / (1 + np.exp(-logit))
        for _, rows in items.groupby("inquiry_id", sort=True).indices.items():
            practice = int(items["practice_id"].iat[rows[0]])
            if rng.random() >= self.responsiveness.get(practice, 0.7):
                continue
            delay, offers = int(rng.integers(0, 21)), 0
            for row in rows:
                offered = bool(wants[row]) and offers < 2
                offers += offered
                declined = "declined_capacity" if rng.random() < 0.7 else "declined_other"
                outcome[row] = "offered" if offered else declined
                answered[row] = True
                answer_day[row] = int(items["day"].iat[row]) + delay
        return pd.DataFrame({"answered": answered, "answer_day": answer_day, "outcome": outcome}, index=items.index)


def age_world() -> AgeWorld:
    return AgeWorld()
