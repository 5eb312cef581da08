"""Random draws for the demo data: weighted choices that still show every value at least once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")


def spread(rng: random.Random, weights: Mapping[T, float], n: int) -> list[T]:
    """Draw ``n`` values by weight; when ``n`` allows, every value appears at least once.

    Example: ``spread(rng, {"active": 90, "blocked": 6, "inactive": 4}, 50)`` contains "inactive".
    """
    values = list(weights)
    draws = rng.choices(values, weights=[weights[v] for v in values], k=n) if n else []
    if n < len(values):
        return draws
    for value in values:
        if value in draws:
            continue
        # a missing value takes the place of the most common one, which then still occurs at least once
        counts = Counter(draws)
        common = max(values, key=lambda v: counts[v])
        positions = [i for i, drawn in enumerate(draws) if drawn == common]
        draws[rng.choice(positions)] = value
    return draws


def pick(rng: random.Random, weights: Mapping[T, float]) -> T:
    """Draw one value by weight, e.g. ``pick(rng, {"car": 25, "transit": 50})``."""
    values = list(weights)
    return rng.choices(values, weights=[weights[v] for v in values])[0]


def moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """Return a moment between ``start`` and ``end``, to the minute."""
    minutes = max(0, int((end - start).total_seconds() // 60))
    return start + timedelta(minutes=rng.randint(0, minutes))
