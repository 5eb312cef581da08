"""A spatial index over points (e.g. therapists): every point within a radius, for a whole batch at once.

One ``BallTree(metric="haversine")`` query answers all patients of a matching batch (DESIGN 4, step 1)
instead of a loop over pairs. Points without a location are kept out of the tree and can never be found;
queries without a location find nothing and are flagged, so the caller reports "location missing".

Example:
    index = build_index(therapists_latlon)                    # (m, 2) degrees, NaN rows allowed
    found = within_radius(index, patients_latlon, radius_km=25)
    found.indices[0], found.distances_km[0]                   # rows of therapists_latlon near patient 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.neighbors import BallTree

from core.geo.distance import EARTH_RADIUS_KM, location_missing

LEAF_SIZE = 40  # scikit-learn's default


@dataclass(frozen=True)
class SpatialIndex:
    tree: BallTree | None  # None when no point has a location
    rows: np.ndarray  # tree position -> row of the points the index was built from
    size: int  # number of points given, with or without location
    missing: np.ndarray  # bool per given point: no usable location, never returned by a query


@dataclass(frozen=True)
class RadiusResult:
    indices: list[np.ndarray]  # per query: rows of the indexed points, nearest first
    distances_km: list[np.ndarray]  # per query: great-circle distances in km, same order
    query_missing: np.ndarray  # bool per query: the query point has no location (nothing found)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return flat (query row, point row, km) arrays of every pair found."""
        counts = np.fromiter((len(i) for i in self.indices), dtype=np.int64, count=len(self.indices))
        queries = np.repeat(np.arange(len(self.indices)), counts)
        if counts.sum() == 0:
            return queries, np.empty(0, dtype=np.int64), np.empty(0)
        return queries, np.concatenate(self.indices).astype(np.int64), np.concatenate(self.distances_km)


def _as_latlon(points_latlon_deg: ArrayLike) -> np.ndarray:
    points = np.asarray(points_latlon_deg, dtype=float)
    if points.ndim == 1 and points.size == 2:
        points = points.reshape(1, 2)
    if points.ndim != 2 or (points.size and points.shape[1] != 2):
        raise ValueError(f"points must be an (n, 2) array of [latitude, longitude] degrees, got shape {points.shape}")
    return points.reshape(-1, 2)


def build_index(points_latlon_deg: ArrayLike) -> SpatialIndex:
    """Return a haversine BallTree over the (n, 2) [lat, lon] points that have a location."""
    points = _as_latlon(points_latlon_deg)
    missing = location_missing(points[:, 0], points[:, 1])
    rows = np.flatnonzero(~missing)
    tree = BallTree(np.radians(points[rows]), leaf_size=LEAF_SIZE, metric="haversine") if rows.size else None
    return SpatialIndex(tree=tree, rows=rows, size=len(points), missing=missing)


def within_radius(index: SpatialIndex, points_latlon_deg: ArrayLike, radius_km: float | ArrayLike) -> RadiusResult:
    """Return, per query point, the indexed rows within ``radius_km`` (scalar or one per query), nearest first.

    One tree query serves the whole batch. A query without location finds nothing and is flagged.
    Example: ``within_radius(build_index([[52.52, 13.40]]), [[52.50, 13.40]], 5).indices`` -> ``[array([0])]``
    """
    queries = _as_latlon(points_latlon_deg)
    radius = np.broadcast_to(np.asarray(radius_km, dtype=float), (len(queries),))
    if np.any(radius < 0) or np.any(np.isnan(radius)):
        raise ValueError("radius_km must be a non-negative number of kilometres, e.g. 25")
    query_missing = location_missing(queries[:, 0], queries[:, 1])
    empty_rows, empty_km = np.empty(0, dtype=np.int64), np.empty(0)
    indices = [empty_rows] * len(queries)
    distances = [empty_km] * len(queries)
    ask = np.flatnonzero(~query_missing)
    if index.tree is not None and ask.size:
        found, angles = index.tree.query_radius(
            np.radians(queries[ask]), r=radius[ask] / EARTH_RADIUS_KM, return_distance=True, sort_results=True
        )
        for position, rows, angle in zip(ask, found, angles, strict=True):
            indices[position] = index.rows[rows]
            distances[position] = angle * EARTH_RADIUS_KM
    return RadiusResult(indices=indices, distances_km=distances, query_missing=query_missing)
