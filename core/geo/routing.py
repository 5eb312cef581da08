"""A client for an OSRM-compatible routing server (``/route/v1``), used when ROUTING_URL is set.

Request: ``GET {ROUTING_URL}/route/v1/driving/{lon},{lat};{lon},{lat}?overview=false``
Answer:  ``{"code": "Ok", "routes": [{"duration": 1234.5, "distance": 20345.1, ...}], ...}`` (seconds, metres)

Any other answer (a "code" other than "Ok", no route, a timeout, an HTTP error, not JSON) raises
RoutingError; ``core.geo.travel`` then falls back to the distance estimate.

Example: ``route("http://localhost:5000", (52.52, 13.40), (52.40, 13.06), mode="car").minutes`` -> 38.2
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

PROFILES = {"car": "driving", "bike": "cycling", "foot": "walking"}  # OSRM's profile names in the URL
TIMEOUT_S = 5.0  # a route takes OSRM milliseconds; a slow answer is a server in trouble


class RoutingError(Exception):
    """The routing server gave no usable route."""


@dataclass(frozen=True)
class Route:
    minutes: float
    km: float


def route(
    base_url: str,
    origin_latlon: tuple[float, float],
    destination_latlon: tuple[float, float],
    *,
    mode: str,
    timeout: float = TIMEOUT_S,
) -> Route:
    """Return the server's fastest route between two [lat, lon] points."""
    if mode not in PROFILES:
        raise RoutingError(f"OSRM has no profile for mode '{mode}'; use one of {', '.join(PROFILES)}")
    (lat1, lon1), (lat2, lon2) = origin_latlon, destination_latlon
    url = f"{base_url.rstrip('/')}/route/v1/{PROFILES[mode]}/{lon1:.6f},{lat1:.6f};{lon2:.6f},{lat2:.6f}?overview=false"
    if not url.startswith(("http://", "https://")):
        raise RoutingError(f"ROUTING_URL '{base_url}' is not an http(s) URL, e.g. http://localhost:5000")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            answer = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as error:  # URLError, HTTPError and timeouts are OSErrors; bad JSON a ValueError
        raise RoutingError(f"routing server {base_url} failed: {error}") from error
    if not isinstance(answer, dict) or answer.get("code") != "Ok" or not answer.get("routes"):
        code = answer.get("code") if isinstance(answer, dict) else "?"
        raise RoutingError(f"routing server {base_url} found no route (code {code})")
    best = answer["routes"][0]
    try:
        return Route(minutes=float(best["duration"]) / 60.0, km=float(best["distance"]) / 1000.0)
    except (KeyError, TypeError, ValueError) as error:
        raise RoutingError(f"routing server {base_url} sent a route without duration/distance") from error
