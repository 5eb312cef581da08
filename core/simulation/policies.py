"""Matching policies the simulator compares, all run through ``core.matching.pipeline.run_pipeline``.

policy          assignment  model                                              exploration share
greedy          greedy      prior (scores unused: oldest search first,         0 (the anchor: staff picked by hand)
                            nearest passing therapist, same limits)
exact-prior     exact       the documented prior (core.matching.score)         MATCH_EXPLORATION_SHARE
exact-learned   exact       the prior until --train-after, then a model        MATCH_EXPLORATION_SHARE
                            trained on the run's own history, retrained weekly

Settings come from ``core.config`` (MATCH_*, FOLLOWUP_*), so a simulation runs the rules production runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.config import Settings
from core.errors import ValidationError
from core.matching.score import MatchModel, PriorModel

POLICIES = ("greedy", "exact-prior", "exact-learned")
RETRAIN_DAYS = 7  # the weekly training job (jobs.train_model) retrains once a week
MIN_TRAINING_OFFERS = 20  # fewer positive labels: keep the prior (the training job says the same)


@dataclass(frozen=True)
class SimulationSettings:
    """The production settings a simulation reads (``from_settings``), with the policy's exploration share."""

    match_inquiry_max_size: int
    match_exploration_share: float
    match_monthly_cap: int
    match_min_overlap_hours: float
    match_capacity_decline_days: int
    match_parallel_per_search: int
    match_cooldown_weeks: int
    followup_reminder_days: int
    followup_call_days: int
    followup_call_attempts: int
    timezone: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SimulationSettings:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


def check_policy(policy: str) -> str:
    """Return the policy or raise ValidationError naming the allowed ones."""
    if policy not in POLICIES:
        raise ValidationError(f"Policy '{policy}' is unknown; use one of {', '.join(POLICIES)}", field="policy")
    return policy


def policy_settings(policy: str, settings: SimulationSettings) -> SimulationSettings:
    """Return the settings the policy runs the pipeline with (greedy explores nothing)."""
    return replace(settings, match_exploration_share=0.0) if policy == "greedy" else settings


def assignment_of(policy: str) -> str:
    return "greedy" if policy == "greedy" else "exact"


class LearnedPolicyModel:
    """The exact-learned policy's model: the prior until trained, then the latest trained model."""

    def __init__(self, *, train_after: int, seed: int) -> None:
        self.train_after, self.seed = train_after, seed
        self.current: MatchModel = PriorModel()
        self.trainings: list[dict[str, Any]] = []

    def due(self, day: int) -> bool:
        return day >= self.train_after and (day - self.train_after) % RETRAIN_DAYS == 0

    def train(self, day: int, features: pd.DataFrame, labels: np.ndarray) -> None:
        """Fit on the items whose outcome is known by ``day``; keep the current model when too few offers."""
        offers = int(np.sum(labels))
        if offers < MIN_TRAINING_OFFERS or offers == len(labels):
            self.trainings.append({"day": day, "rows": len(labels), "offers": offers, "model": self.current.name})
            return
        from core.matching.learned import fit_learned_model  # the learned model's own module (scikit-learn)

        self.current = fit_learned_model(features, labels, seed=self.seed + day)
        fit = self.current.details  # the penalty says how far the answers moved the model from the prior
        self.trainings.append(
            {"day": day, "rows": len(labels), "offers": offers, "model": self.current.name,
             "penalty": fit["penalty"], "calibration_slope": round(fit["calibration"]["slope"], 3)}
        )  # fmt: skip
