"""The fair brute-force baseline of the distance benchmarks: unit vectors and one matrix product per chunk.

Every point becomes a 3-D unit vector; two points are within ``reach`` km when the dot product of their
vectors is at least cos(reach / R). One ``Q @ P.T`` per chunk of queries finds the hits (with a small margin
for rounding), and the exact haversine is computed on the hits only, so the pairs and their distances are
the same as the spatial index's. Issue 13 measured this at 0.54 s for the 10k x 50k matrix.
"""

from __future__ import annotations

import numpy as np

from core.geo.distance import EARTH_RADIUS_KM, haversine_km

CHUNK = 500  # queries per block: 500 x 50,000 dot products = 200 MB of float64 at a time
MARGIN = 1e-9  # on the cosine: pairs this close to the threshold are checked by haversine, not dropped


def unit_vectors(latlon: np.ndarray) -> np.ndarray:
    """Return (n, 3) unit vectors of (lat, lon) degrees (NaN rows stay NaN)."""
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def pairs_within(queries: np.ndarray, points: np.ndarray, reach_km: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return (query row, point row, km) of every pair within each query's ``reach_km``, per query by row."""
    q_vectors, p_vectors = unit_vectors(queries), unit_vectors(points)
    threshold = np.cos(np.minimum(np.asarray(reach_km, dtype=float), np.pi * EARTH_RADIUS_KM) / EARTH_RADIUS_KM)
    rows_q, rows_p, kms = [], [], []
    for start in range(0, len(queries), CHUNK):
        dots = q_vectors[start : start + CHUNK] @ p_vectors.T
        with np.errstate(invalid="ignore"):
            q, p = np.nonzero(dots >= threshold[start : start + CHUNK, None] - MARGIN)
        q += start
        km = haversine_km(queries[q, 0], queries[q, 1], points[p, 0], points[p, 1])
        keep = km <= reach_km[q]
        rows_q.append(q[keep])
        rows_p.append(p[keep])
        kms.append(km[keep])
    return np.concatenate(rows_q), np.concatenate(rows_p), np.concatenate(kms)
