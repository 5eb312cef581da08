"""The simulator's default world: the demo data's response model (``core.demo.response``), one world model.

Each practice gets a responsiveness at the start (0.55 / 0.75 / 0.90); each inquiry draws its fate (answered
or not, and in which phase of the follow-up ladder); each patient of an answered inquiry is offered a
place with P = 0.15 / 0.06 / 0.015 (the therapist reported taking patients / unknown / not) times a
distance discount, at most two per inquiry. Every simulated practice has an e-mail address.

Example:
    world = DemoWorld()
    world.start(practices, np.random.default_rng(1))
    answers = world.respond(items, np.random.default_rng(2))
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from core.demo import response


def _python_rng(rng: np.random.Generator) -> random.Random:
    """Return a random.Random drawn from ``rng`` (the demo's response functions take one)."""
    return random.Random(int(rng.integers(2**63)))  # noqa: S311 - a simulation, not a secret


class DemoWorld:
    """The demo response model behind the world interface of ``core.simulation.world``."""

    def __init__(self, *, reminder_days: int = 7, call_days: int = 7) -> None:
        self.reminder_days, self.call_days = reminder_days, call_days
        self.responsiveness: dict[int, float] = {}

    def start(self, practices: pd.DataFrame, rng: np.random.Generator) -> None:
        draw = _python_rng(rng)
        self.responsiveness = {
            int(practice_id): response.draw_responsiveness(draw) for practice_id in practices["practice_id"]
        }

    def respond(self, items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        draw = _python_rng(rng)
        answered = np.zeros(len(items), dtype=bool)
        answer_day = np.full(len(items), -1, dtype=np.int64)
        outcome = np.full(len(items), None, dtype=object)
        practices = items["practice_id"].to_numpy()
        flags = items["accepting"].to_numpy(dtype=object)
        distances = items["distance_km"].to_numpy()
        days = items["day"].to_numpy()
        for _, rows in items.groupby("inquiry_id", sort=True).indices.items():
            first = rows[0]
            practice = int(practices[first])
            fate = response.draw_fate(draw, responsiveness=self.responsiveness.get(practice, 0.74), phone_only=False)
            delay = response.answer_delay_days(fate, reminder_days=self.reminder_days, call_days=self.call_days)
            if delay is None:
                continue
            accepts = 0
            for row in rows:
                accepting = flags[row]
                accepting = None if accepting is None or accepting != accepting else bool(accepting)
                km = float(distances[row])
                wants = response.wants_place(draw, accepting=accepting, distance_km=km)
                said = response.patient_outcome(draw, wants=wants, accepts_so_far=accepts)
                accepts += said == "accepted"
                answered[row] = True
                answer_day[row] = int(days[row]) + delay
                outcome[row] = "offered" if said == "accepted" else said
        return pd.DataFrame({"answered": answered, "answer_day": answer_day, "outcome": outcome}, index=items.index)
