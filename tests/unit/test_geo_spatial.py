"""The spatial index finds exactly the points a brute-force distance matrix finds, for a whole batch."""

from __future__ import annotations

import numpy as np
import pytest

from core.geo.distance import haversine_matrix_km
from core.geo.spatial import build_index, within_radius


def germany(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack((rng.uniform(47.3, 55.0, n), rng.uniform(5.9, 15.0, n)))


def test_within_radius__finds_the_same_pairs_as_the_brute_force_matrix():
    rng = np.random.default_rng(7)
    therapists, patients = germany(rng, 3_000), germany(rng, 200)

    found = within_radius(build_index(therapists), patients, radius_km=40)

    matrix = haversine_matrix_km(patients, therapists)
    for q in range(len(patients)):
        expected = np.flatnonzero(matrix[q] <= 40)
        assert sorted(found.indices[q].tolist()) == expected.tolist()
        assert found.distances_km[q] == pytest.approx(matrix[q, found.indices[q]], abs=1e-6)
        assert np.all(np.diff(found.distances_km[q]) >= 0)  # nearest first


def test_within_radius__points_without_location_are_never_found():
    therapists = np.array([[52.52, 13.40], [np.nan, np.nan], [52.53, 13.41]])

    found = within_radius(build_index(therapists), [[52.52, 13.40]], radius_km=10)

    assert found.indices[0].tolist() == [0, 2]  # rows of the input, the NaN row skipped, not at 0 km


def test_within_radius__queries_without_location_find_nothing_and_are_flagged():
    found = within_radius(build_index([[52.52, 13.40]]), [[np.nan, np.nan], [52.52, 13.40]], radius_km=10)

    assert found.query_missing.tolist() == [True, False]
    assert [i.tolist() for i in found.indices] == [[], [0]]


def test_within_radius__radius_per_query_and_flat_pairs():
    therapists = np.array([[52.52, 13.40], [52.52, 13.55]])  # about 10 km apart

    found = within_radius(build_index(therapists), [[52.52, 13.40], [52.52, 13.40]], radius_km=[5, 15])

    queries, rows, km = found.pairs()
    assert queries.tolist() == [0, 1, 1]
    assert rows.tolist() == [0, 0, 1]
    assert km[2] == pytest.approx(10.2, abs=0.1)


def test_build_index__without_any_location_finds_nothing():
    found = within_radius(build_index(np.full((3, 2), np.nan)), [[52.52, 13.40]], radius_km=100)

    assert found.indices[0].size == 0


def test_within_radius__rejects_a_negative_radius():
    with pytest.raises(ValueError, match="non-negative number of kilometres"):
        within_radius(build_index([[52.52, 13.40]]), [[52.52, 13.40]], radius_km=-1)
