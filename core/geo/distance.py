"""Great-circle distances (vectorised haversine) and the "location missing" rule.

A missing location is never a distance of 0 km: the system this workbench replaces did that and matched
patients to therapists 50 km away. Here a missing coordinate is NaN, every distance that involves it is
NaN, and such a pair fails any distance limit with the reason code ``location_missing``.

Example:
    >>> round(float(haversine_km(52.52, 13.405, 48.137, 11.575)), 0)   # Berlin - Munich centres
    504.0
    >>> check = distance_check((52.52, 13.405), [52.5, float("nan")], [13.4, float("nan")], max_km=10)
    >>> check.reasons.tolist()
    ['', 'location_missing']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG); the haversine error against the ellipsoid is < 0.5 %

LOCATION_MISSING = "location_missing"  # reason code: one side has no usable coordinates
TOO_FAR = "too_far"  # reason code: farther than the allowed distance
PASSED = ""  # no reason: the pair is within the limit


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Return great-circle distances in km between points given in degrees (numpy broadcasting; NaN stays NaN).

    Example: ``haversine_km(52.52, 13.405, [48.137, 53.551], [11.575, 9.994])`` -> ``[504.2, 255.3]``
    """
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_matrix_km(origins_latlon: ArrayLike, targets_latlon: ArrayLike) -> np.ndarray:
    """Return the (n origins x m targets) distance matrix in km for (n, 2) and (m, 2) [lat, lon] arrays."""
    origins = np.asarray(origins_latlon, dtype=float).reshape(-1, 2)
    targets = np.asarray(targets_latlon, dtype=float).reshape(-1, 2)
    return haversine_km(origins[:, :1], origins[:, 1:], targets[None, :, 0], targets[None, :, 1])


def location_missing(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """Return True where a coordinate is missing (NaN/None) or impossible (outside -90..90 / -180..180)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    return ~valid


@dataclass(frozen=True)
class DistanceCheck:
    """Per target: distance (NaN if unknown), whether it passes the limit, and the reason if not."""

    km: np.ndarray  # float, NaN where a location is missing
    location_missing: np.ndarray  # bool
    passed: np.ndarray  # bool; never True where location_missing
    reasons: np.ndarray  # str: "" (passed), "location_missing" or "too_far"


def distance_check(
    origin_latlon: tuple[float | None, float | None] | None,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    max_km: float | ArrayLike = np.inf,
) -> DistanceCheck:
    """Return distances from one origin to many targets and which of them lie within ``max_km``.

    A missing origin (None or NaN) or a missing target gives NaN km, ``passed`` False and the reason
    ``location_missing``; it is never treated as 0 km.
    Example: ``distance_check((52.52, 13.40), lat=[52.50, None], lon=[13.40, None], max_km=10).reasons``
    -> ``["", "location_missing"]``
    """
    lat = np.asarray(lat, dtype=float).ravel()
    lon = np.asarray(lon, dtype=float).ravel()
    origin_lat, origin_lon = origin_latlon if origin_latlon is not None else (None, None)
    origin_lat = np.nan if origin_lat is None else origin_lat
    origin_lon = np.nan if origin_lon is None else origin_lon
    missing = location_missing(lat, lon) | bool(location_missing(origin_lat, origin_lon))
    km = np.where(missing, np.nan, haversine_km(origin_lat, origin_lon, lat, lon))
    with np.errstate(invalid="ignore"):
        within = km <= np.asarray(max_km, dtype=float)
    passed = ~missing & within
    reasons = np.where(missing, LOCATION_MISSING, np.where(passed, PASSED, TOO_FAR))
    return DistanceCheck(km=km, location_missing=missing, passed=passed, reasons=reasons)
