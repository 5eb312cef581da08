"""Geocoding cache entries for the demo practices: found addresses, postcode fallbacks and failed lookups."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.demo.markers import DEMO_GEOCACHE_SOURCE

Row = dict[str, Any]

CACHE_LIFETIME = timedelta(days=90)  # how long a geocoding answer is trusted before it is asked again
POSTCODE_ENTRIES = 20  # a few postcode-only lookups, as patients without street produce them


def geocache_rows(practices: list[Row], now: datetime) -> list[Row]:
    """Return one cache entry per practice address lookup and a few postcode lookups."""
    rows: list[Row] = []
    seen: set[str] = set()
    postcode_entries = 0
    for practice in practices:
        if practice["location_precision"] == "postcode":
            if postcode_entries >= POSTCODE_ENTRIES:
                continue
            postcode_entries += 1
            query = f"{practice['postcode']}, deutschland"
        else:
            query = f"{practice['street']}, {practice['postcode']} {practice['city']}".lower()
        if query in seen:
            continue
        seen.add(query)
        created = practice["created_at"]
        rows.append(
            {
                "id": len(rows) + 1,
                "query": query,
                "latitude": practice["latitude"],
                "longitude": practice["longitude"],
                "precision": practice["location_precision"],
                "source": DEMO_GEOCACHE_SOURCE,
                "raw": None,
                "created_at": created,
                "expires_at": max(created, now - timedelta(days=30)) + CACHE_LIFETIME,
            }
        )
    return rows
