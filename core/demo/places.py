"""Pick postcodes the way people live: a place by its population, then one of the postcodes around it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np

from core.demo.vocabulary import CITY_NAMES

RESIDENTS_PER_POSTCODE = 20_000  # a city of one million spreads its people over about 50 postcodes
MAX_POSTCODES_PER_PLACE = 80  # Berlin has about 190 postcodes; its 80 most central ones are plenty for a demo


@dataclass(frozen=True)
class Spot:
    """A postcode centroid with the place it belongs to."""

    plz: str
    latitude: float
    longitude: float
    city: str
    state: str | None


class PostcodePicker:
    """Choose postcode centroids weighted by the population of the nearest places."""

    def __init__(self, postcodes: Sequence[Mapping[str, Any]], places: Sequence[Mapping[str, Any]]) -> None:
        self.spots = [
            Spot(
                plz=row["plz"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                city=CITY_NAMES.get(row["place"], row["place"]) if row["place"] else "",
                state=row["state"],
            )
            for row in sorted(postcodes, key=lambda row: row["plz"])
        ]
        lat = np.radians([spot.latitude for spot in self.spots])
        lon = np.radians([spot.longitude for spot in self.spots])
        self.neighbourhoods: list[list[int]] = []
        weights: list[int] = []
        # sorted, so that the picks do not depend on the order the place source lists them in
        for place in sorted(places, key=lambda p: (p["name"], p["latitude"], p["longitude"])):
            if place["population"] <= 0 or not self.spots:
                continue
            k = min(max(1, round(place["population"] / RESIDENTS_PER_POSTCODE)), MAX_POSTCODES_PER_PLACE)
            k = min(k, len(self.spots))
            plat, plon = np.radians(place["latitude"]), np.radians(place["longitude"])
            # equirectangular distance: exact enough to rank postcodes within a few dozen km
            x = (lon - plon) * np.cos((lat + plat) / 2)
            distance = x * x + (lat - plat) ** 2
            nearest = np.sort(np.argpartition(distance, k - 1)[:k])
            self.neighbourhoods.append([int(i) for i in nearest])
            weights.append(place["population"])
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random) -> Spot:
        """Return one postcode spot; without place data, any postcode is equally likely."""
        if not self.neighbourhoods:
            return rng.choice(self.spots)
        neighbourhood = rng.choices(self.neighbourhoods, cum_weights=self.cumulative)[0]
        return self.spots[rng.choice(neighbourhood)]
