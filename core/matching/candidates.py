"""Candidate pairs (DESIGN 4, step 1): every therapist within each search's reach, one spatial query per batch.

A search's reach is the tighter of its distance limit and the distance its travel-time limit covers in its
transport mode (``core.geo.travel.reachable_km``), after staff relaxations (``core.matching.snapshot``).
One haversine BallTree over the snapshot's therapists answers all searches at once; a search without a
location finds nothing and is counted, so the job can report "location missing".

Example:
    found = find_candidates(snapshot)
    found.search_rows[:3], found.therapist_rows[:3], found.distance_km[:3]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.geo.spatial import SpatialIndex, build_index, within_radius
from core.matching.snapshot import Snapshot


@dataclass(frozen=True)
class Candidates:
    search_rows: np.ndarray  # int64 row in snapshot.searches, per pair
    therapist_rows: np.ndarray  # int64 row in snapshot.therapists, per pair
    distance_km: np.ndarray  # great-circle km, per pair
    searches_without_location: np.ndarray  # search rows that have no usable location

    def __len__(self) -> int:
        return len(self.search_rows)


def therapist_index(snapshot: Snapshot) -> SpatialIndex:
    """Return the spatial index over the snapshot's therapists (rows without location are left out)."""
    therapists = snapshot.therapists
    return build_index(np.column_stack([therapists["latitude"].to_numpy(), therapists["longitude"].to_numpy()]))


def find_candidates(
    snapshot: Snapshot, *, index: SpatialIndex | None = None, search_rows: np.ndarray | None = None
) -> Candidates:
    """Return every (search, therapist) pair within the search's reach, nearest first per search.

    ``search_rows`` limits the query to some searches (default: all searches of the snapshot).
    """
    searches = snapshot.searches
    rows = np.arange(len(searches)) if search_rows is None else np.asarray(search_rows, dtype=np.int64)
    index = index if index is not None else therapist_index(snapshot)
    points = np.column_stack([searches["latitude"].to_numpy()[rows], searches["longitude"].to_numpy()[rows]])
    reach = searches["reach_km"].to_numpy()[rows]
    found = within_radius(index, points.reshape(-1, 2), np.where(np.isfinite(reach), reach, 0.0))
    queries, therapist_rows, km = found.pairs()
    return Candidates(
        search_rows=rows[queries].astype(np.int64),
        therapist_rows=therapist_rows.astype(np.int64),
        distance_km=km,
        searches_without_location=rows[found.query_missing],
    )
