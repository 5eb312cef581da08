"""The geocoding chain: Postgres cache -> Nominatim (geopy) -> PLZ centroid -> "location missing".

``locate`` returns a ``Location`` whose ``precision`` says what the coordinates stand for:

    address   Nominatim found the house or street (fresh, or from the cache within GEOCODE_CACHE_DAYS)
    postcode  the centroid of the PLZ (offline default, address unknown to Nominatim, or Nominatim down)
    none      no usable location: the record is excluded from distance matching ("location_missing")

Nominatim is asked only when NOMINATIM_URL is set, at most once per second across every process (see
``core.geo.ratelimit``), with a timeout per request and retries with exponential backoff on 429, 5xx and
timeouts. Found and not-found answers are cached; failures are not, so they are tried again later.

Exceptions from the service (geopy.exc) never leave this module: a failure becomes a fallback with a note.

Example:
    with session_scope() as session:
        where = locate(session, street="Invalidenstr. 116", postcode="10115", city="Berlin", now=now)
    where.precision, where.source, where.note      # e.g. ("postcode", "postcode_centroid", "offline")
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from geopy import exc as geopy_exc
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.geo.distance import haversine_km
from core.geo.models import GeocacheEntry, Postcode
from core.geo.ratelimit import NOMINATIM_INTERVAL, engine_of, hold_off, reserve_slot
from core.patients.models import LocationPrecision

_log = logging.getLogger(__name__)

SERVICE = "nominatim"
SOURCE_NOMINATIM = "nominatim"
SOURCE_CENTROID = "postcode_centroid"
TIMEOUT_S = 10.0  # Nominatim answers in well under a second; ten seconds means it is in trouble
ATTEMPTS = 3  # first try plus two retries
BACKOFF_S = 2.0  # waits 2 s, then 4 s between attempts (doubled each time)
MAX_RETRY_AFTER_S = 60.0  # a Retry-After longer than this is not waited for; the PLZ centroid is used
NOT_FOUND_DAYS = 7  # addresses are added to OpenStreetMap all the time: ask again after a week
STREET_RANK = 26  # Nominatim place_rank: 26 = street, 30 = house; below is a district, town or postcode area
# An answer this far from the PLZ centroid is another place with the same street name; the widest German
# PLZ areas measure about 25 km across.
MAX_OFFSET_FROM_POSTCODE_KM = 30.0

# notes on a Location, translated by the dashboards as geo.note.<code>
NOTE_OFFLINE = "offline"  # NOMINATIM_URL is not set
NOTE_NO_STREET = "no_street"  # only a PLZ was given
NOTE_NOT_FOUND = "not_found"  # Nominatim does not know the address
NOTE_UNAVAILABLE = "unavailable"  # Nominatim failed (429, 5xx, timeout, malformed answer) after retries
NOTE_FAR_FROM_POSTCODE = "far_from_postcode"  # Nominatim's answer lies outside the PLZ area
NOTE_POSTCODE_UNKNOWN = "postcode_unknown"  # no PLZ or one that does not exist: location missing


@dataclass(frozen=True)
class Location:
    latitude: float | None
    longitude: float | None
    precision: LocationPrecision
    source: str | None  # "nominatim", "postcode_centroid", the cache entry's source, or None
    note: str = ""  # why the precision is not "address" (NOTE_*), "" when it is
    from_cache: bool = False

    @property
    def missing(self) -> bool:
        return self.precision == LocationPrecision.NONE


@dataclass(frozen=True)
class Answer:
    """What Nominatim said about one address: found (with coordinates) or not found."""

    latitude: float | None
    longitude: float | None
    raw: dict[str, Any] | None

    @property
    def found(self) -> bool:
        return self.latitude is not None


class GeocoderUnavailable(Exception):
    """Nominatim could not be asked successfully (after retries); the caller falls back."""


def normalise_query(street: str | None, postcode: str | None, city: str | None) -> str:
    """Return the cache key of an address: "street, plz city", lower case, single spaces.

    Example: ``normalise_query(" Invalidenstr.  116", "10115", "Berlin")`` -> ``"invalidenstr. 116, 10115 berlin"``
    """
    text = f"{street or ''}, {postcode or ''} {city or ''}".strip()
    return re.sub(r"\s+", " ", text).lower()[:400]


class NominatimClient:
    """Ask a Nominatim server through geopy: one slot per request, timeouts, retries with backoff."""

    def __init__(
        self,
        *,
        url: str,
        user_agent: str,
        engine,
        timeout: float = TIMEOUT_S,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_S,
        interval: timedelta = NOMINATIM_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from geopy.adapters import URLLibAdapter
        from geopy.geocoders import Nominatim

        parts = urlsplit(url)
        # urllib rather than requests: requests retries by itself, which would bypass the rate limit
        self.geocoder = Nominatim(
            domain=f"{parts.netloc}{parts.path.rstrip('/')}",
            scheme=parts.scheme,
            user_agent=user_agent,
            timeout=timeout,
            adapter_factory=URLLibAdapter,
        )
        self.engine = engine
        self.attempts = attempts
        self.backoff = backoff
        self.interval = interval
        self.sleep = sleep
        self.requests = 0  # how many requests this client sent (for job reports and tests)

    def lookup(self, *, street: str, postcode: str, city: str | None) -> Answer:
        """Return Nominatim's answer for a German address; raise GeocoderUnavailable when it fails."""
        query = {"street": street, "postalcode": postcode, "country": "Deutschland"}
        if city:
            query["city"] = city
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            reserve_slot(self.engine, service=SERVICE, interval=self.interval, sleep=self.sleep)
            self.requests += 1
            try:
                result = self.geocoder.geocode(query, exactly_one=True, country_codes="de")
            except geopy_exc.GeocoderRateLimited as error:
                retry_after = float(error.retry_after or delay)
                if retry_after > MAX_RETRY_AFTER_S:
                    raise GeocoderUnavailable(f"Nominatim asks to wait {retry_after:.0f} s (429)") from error
                hold_off(self.engine, service=SERVICE, seconds=retry_after, interval=self.interval)
                failure: Exception = error
            except geopy_exc.GeocoderServiceError as error:
                if not _transient(error):
                    raise GeocoderUnavailable(f"Nominatim failed: {type(error).__name__}: {error}") from error
                failure = error
            else:
                if result is None:
                    return Answer(latitude=None, longitude=None, raw=None)
                return Answer(latitude=float(result.latitude), longitude=float(result.longitude), raw=result.raw)
            _log.info("Nominatim attempt %d/%d failed: %s", attempt, self.attempts, failure)
            if attempt < self.attempts:
                self.sleep(delay)
                delay *= 2
        raise GeocoderUnavailable(f"Nominatim failed {self.attempts} times; last error: {failure}")


def _transient(error: geopy_exc.GeocoderServiceError) -> bool:
    """Return whether trying again may help: timeouts, connection failures and 5xx (but not a malformed answer)."""
    if isinstance(error, geopy_exc.GeocoderTimedOut | geopy_exc.GeocoderUnavailable):
        return True
    # geopy raises the base class for 5xx codes it has no own class for (500, 502)
    return type(error) is geopy_exc.GeocoderServiceError


def client_from_settings(session: Session, settings: Settings | None = None) -> NominatimClient | None:
    """Return a Nominatim client for NOMINATIM_URL, or None when it is unset (offline)."""
    settings = settings or get_settings()
    if not settings.nominatim_url:
        return None
    return NominatimClient(
        url=settings.nominatim_url, user_agent=settings.nominatim_user_agent, engine=engine_of(session)
    )


def cached(session: Session, query: str, *, now: datetime) -> GeocacheEntry | None:
    """Return the unexpired cache entry for ``query``, if any."""
    return session.scalar(select(GeocacheEntry).where(GeocacheEntry.query == query, GeocacheEntry.expires_at > now))


def remember(session: Session, query: str, answer: Answer, *, now: datetime, cache_days: int) -> None:
    """Store (or replace) Nominatim's answer for ``query`` in the cache."""
    found = answer.found
    lifetime = timedelta(days=cache_days if found else min(cache_days, NOT_FOUND_DAYS))
    values = {
        "query": query,
        "latitude": answer.latitude,
        "longitude": answer.longitude,
        "precision": (LocationPrecision.ADDRESS if found else LocationPrecision.NONE).value,
        "source": SOURCE_NOMINATIM,
        "raw": answer.raw,
        "created_at": now,
        "expires_at": now + lifetime,
    }
    statement = insert(GeocacheEntry).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[GeocacheEntry.query], set_={k: statement.excluded[k] for k in values if k != "query"}
        )
    )


def _usable(answer: Answer, postcode: Postcode) -> str:
    """Return "" if the answer locates the address, else the note why not."""
    if not answer.found:
        return NOTE_NOT_FOUND
    rank = (answer.raw or {}).get("place_rank")
    if rank is not None and int(rank) < STREET_RANK:
        return NOTE_NOT_FOUND  # only the town or PLZ area: our own centroid is as good
    offset = float(haversine_km(postcode.latitude, postcode.longitude, answer.latitude, answer.longitude))
    if offset > MAX_OFFSET_FROM_POSTCODE_KM:
        return NOTE_FAR_FROM_POSTCODE
    return ""


def _centroid(postcode: Postcode, note: str) -> Location:
    return Location(postcode.latitude, postcode.longitude, LocationPrecision.POSTCODE, SOURCE_CENTROID, note)


def locate(
    session: Session,
    *,
    street: str | None,
    postcode: str | None,
    city: str | None,
    now: datetime,
    client: NominatimClient | None = None,
    cache_days: int | None = None,
) -> Location:
    """Return the best location for an address: cached or fresh Nominatim answer, else the PLZ centroid.

    ``client`` None means offline (no request at all). Writes a cache entry for every answer Nominatim
    gives (found or not found) in the caller's transaction.
    Example: ``locate(session, street=None, postcode="10115", city=None, now=now).precision`` -> ``"postcode"``
    """
    plz = (postcode or "").strip()
    row = session.get(Postcode, plz) if len(plz) == 5 and plz.isdigit() else None
    if row is None:
        return Location(None, None, LocationPrecision.NONE, None, NOTE_POSTCODE_UNKNOWN)
    if not street or not street.strip():
        return _centroid(row, NOTE_NO_STREET)
    query = normalise_query(street, plz, city)
    entry = cached(session, query, now=now)
    if entry is not None:
        answer = Answer(entry.latitude, entry.longitude, entry.raw)
        note = _usable(answer, row) if entry.precision == LocationPrecision.ADDRESS else NOTE_NOT_FOUND
        if note:
            return _centroid(row, note)
        return Location(entry.latitude, entry.longitude, LocationPrecision.ADDRESS, entry.source, "", from_cache=True)
    if client is None:
        return _centroid(row, NOTE_OFFLINE)
    try:
        answer = client.lookup(street=street.strip(), postcode=plz, city=(city or "").strip() or None)
    except GeocoderUnavailable as error:
        _log.warning("geocoding %r fell back to the PLZ centroid: %s", query, error)
        return _centroid(row, NOTE_UNAVAILABLE)
    remember(session, query, answer, now=now, cache_days=cache_days or get_settings().geocode_cache_days)
    note = _usable(answer, row)
    if note:
        return _centroid(row, note)
    return Location(answer.latitude, answer.longitude, LocationPrecision.ADDRESS, SOURCE_NOMINATIM)
