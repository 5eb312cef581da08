"""Travel time per mode (car, transit, bike, foot), estimated from the great-circle distance.

    minutes = access_minutes + distance_km * detour_factor / speed_kmh * 60

The numbers are deliberately plain, door-to-door averages for trips of a few to about 30 km in Germany,
the range patients travel to therapy. They are estimates for ranking and filtering, not timetables:

mode     speed   detour  access  reasoning
car      50 km/h  1.3    5 min   urban roads at 30-50 km/h mixed with country roads at 70-100 km/h; roads
                                 are typically 1.2-1.4 times longer than the straight line; walking to the
                                 car and finding a parking space
transit  20 km/h  1.4    12 min  buses run about 15-20 km/h with stops, S-/U-Bahn 30-35 km/h, a change of
                                 lines costs time; lines wind more than roads; walking to the stop and the
                                 average wait at a 10-20 minute interval, plus the walk at the other end
bike     15 km/h  1.25   2 min   an everyday cycling pace with traffic lights; cycle routes are slightly
                                 more direct than roads; unlocking and locking the bike
foot     4.5 km/h 1.25   0 min   a normal walking pace (75 m a minute); paths are about as direct as cycle
                                 routes

When ROUTING_URL names an OSRM server, car trips use its route duration (plus the access time) instead
(``core.geo.routing``). An OSRM server answers for the one profile it was built with, usually car; OSRM has
no timetables, so transit, bike and foot keep the estimate. A missing location gives NaN minutes, never 0.

Example: ``estimate_minutes(10.0, "transit")`` -> 54.0 (12 + 10 * 1.4 / 20 * 60)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from core.geo.distance import LOCATION_MISSING, haversine_km, location_missing


@dataclass(frozen=True)
class ModeProfile:
    speed_kmh: float  # average door-to-door speed along the route
    detour_factor: float  # route length / great-circle distance
    access_minutes: float  # fixed time: to the car/stop/bike and from it to the door


MODES: dict[str, ModeProfile] = {
    "car": ModeProfile(speed_kmh=50.0, detour_factor=1.3, access_minutes=5.0),
    "transit": ModeProfile(speed_kmh=20.0, detour_factor=1.4, access_minutes=12.0),
    "bike": ModeProfile(speed_kmh=15.0, detour_factor=1.25, access_minutes=2.0),
    "foot": ModeProfile(speed_kmh=4.5, detour_factor=1.25, access_minutes=0.0),
}


def profile(mode: str) -> ModeProfile:
    """Return the profile of a transport mode or raise ValueError listing the modes."""
    try:
        return MODES[str(mode)]
    except KeyError:
        raise ValueError(f"Transport mode '{mode}' is unknown; use one of {', '.join(MODES)}, e.g. transit") from None


def estimate_minutes(distance_km: ArrayLike, mode: str) -> np.ndarray:
    """Return estimated door-to-door minutes for great-circle distances (NaN stays NaN)."""
    p = profile(mode)
    km = np.asarray(distance_km, dtype=float)
    return p.access_minutes + km * p.detour_factor / p.speed_kmh * 60.0


def reachable_km(minutes: float, mode: str) -> float:
    """Return the great-circle distance that ``minutes`` of travel covers (0 if less than the access time).

    Useful as the search radius for a patient who gives a maximum travel time instead of a distance.
    Example: ``reachable_km(54, "transit")`` -> 10.0
    """
    p = profile(mode)
    return max(0.0, (minutes - p.access_minutes) / 60.0 * p.speed_kmh / p.detour_factor)


@dataclass(frozen=True)
class TravelTime:
    minutes: float  # NaN when a location is missing
    distance_km: float  # great-circle distance (NaN when a location is missing)
    source: str  # "estimate" or "osrm"; "" when a location is missing
    reason: str = ""  # "location_missing" when a location is missing


def travel_time(
    origin_latlon: tuple[float | None, float | None] | None,
    destination_latlon: tuple[float | None, float | None] | None,
    *,
    mode: str,
    routing_url: str | None = None,
) -> TravelTime:
    """Return the travel time between two points: OSRM's route for car trips if configured, else the estimate.

    Example: ``travel_time((52.52, 13.40), (52.50, 13.45), mode="bike").minutes`` -> about 20
    """
    profile(mode)
    origin = origin_latlon or (None, None)
    destination = destination_latlon or (None, None)
    lats = np.array([origin[0], destination[0]], dtype=float)
    lons = np.array([origin[1], destination[1]], dtype=float)
    if location_missing(lats, lons).any():
        return TravelTime(minutes=float("nan"), distance_km=float("nan"), source="", reason=LOCATION_MISSING)
    km = float(haversine_km(lats[0], lons[0], lats[1], lons[1]))
    if routing_url and mode == "car":
        from core.geo.routing import RoutingError, route

        try:
            found = route(routing_url, (lats[0], lons[0]), (lats[1], lons[1]), mode=mode)
        except RoutingError:
            pass  # the server is down or has no route: the estimate is better than nothing
        else:
            # OSRM drives from kerb to kerb; walking to the car and parking still take their time
            return TravelTime(minutes=found.minutes + profile(mode).access_minutes, distance_km=km, source="osrm")
    return TravelTime(minutes=float(estimate_minutes(km, mode)), distance_km=km, source="estimate")
