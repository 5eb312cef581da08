"""The geocoding chain against a local server speaking Nominatim's JSON: cache -> Nominatim -> PLZ centroid.

Every test ends by checking that the fake server never saw two requests less than a second apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.geo.geocoding import NominatimClient, locate, normalise_query
from core.geo.models import GeocacheEntry, Postcode
from core.patients.models import Patient
from tests.support.fake_nominatim import FakeNominatim, empty, found, malformed, slow, status

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
BERLIN_PLZ = "10115"
HOUSE = (52.5310, 13.3849)  # a point inside PLZ 10115 (Berlin-Mitte)
AGENT = "placement-workbench-tests (tests@example.org)"


@pytest.fixture
def nominatim():
    with FakeNominatim(default=found(*HOUSE)) as server:
        yield server
        assert server.smallest_gap() >= 1.0, f"two requests {server.smallest_gap():.3f} s apart"


@pytest.fixture
def client(nominatim, engine):
    return NominatimClient(url=nominatim.url, user_agent=AGENT, engine=engine, timeout=0.5, attempts=3, backoff=0.1)


def lookup(session, client, street="Invalidenstr. 116", postcode=BERLIN_PLZ, city="Berlin", now=NOW):
    return locate(session, street=street, postcode=postcode, city=city, now=now, client=client, cache_days=90)


def cache_entry(session, street="Invalidenstr. 116", postcode=BERLIN_PLZ, city="Berlin") -> GeocacheEntry | None:
    return session.scalar(select(GeocacheEntry).where(GeocacheEntry.query == normalise_query(street, postcode, city)))


def test_locate__normal_answer_is_an_address_and_cached(session, nominatim, client):
    first = lookup(session, client)
    second = lookup(session, client)

    assert (first.latitude, first.longitude) == pytest.approx(HOUSE)
    assert (first.precision.value, first.source, first.from_cache) == ("address", "nominatim", False)
    assert (second.precision.value, second.from_cache) == ("address", True)
    assert len(nominatim.requests) == 1  # the second answer came from the cache
    request = nominatim.requests[0]
    assert request.path == "/search"
    assert request.user_agent == AGENT
    assert request.params["format"] == "json"
    assert (request.params["street"], request.params["postalcode"], request.params["countrycodes"]) == (
        "Invalidenstr. 116", BERLIN_PLZ, "de",
    )  # fmt: skip
    entry = cache_entry(session)
    assert (entry.precision.value, entry.source) == ("address", "nominatim")
    assert entry.expires_at == NOW + timedelta(days=90)


def test_locate__empty_answer_falls_back_to_the_plz_centroid_and_is_cached(session, nominatim, client):
    nominatim.script("unbekanntweg 1", empty())
    centroid = session.get(Postcode, BERLIN_PLZ)

    first = lookup(session, client, street="Unbekanntweg 1")
    second = lookup(session, client, street="Unbekanntweg 1")

    assert (first.latitude, first.longitude) == (centroid.latitude, centroid.longitude)
    assert (first.precision.value, first.source, first.note) == ("postcode", "postcode_centroid", "not_found")
    assert second.note == "not_found"
    assert len(nominatim.requests) == 1  # "not found" is cached too
    entry = cache_entry(session, street="Unbekanntweg 1")
    assert (entry.precision.value, entry.latitude) == ("none", None)
    assert entry.expires_at == NOW + timedelta(days=7)  # addresses appear in OSM: ask again after a week


def test_locate__429_waits_for_retry_after_then_succeeds(session, nominatim, client):
    nominatim.script("invalidenstr. 116", status(429, retry_after=2), found(*HOUSE))

    where = lookup(session, client)

    assert where.precision.value == "address"
    first, second = nominatim.arrivals()
    assert second - first >= 2.0  # Retry-After was honoured (and held every process off)


@pytest.mark.parametrize(
    ("answer", "requests"),
    [
        (status(429, retry_after=1), 3),  # rate limited every time: three attempts, then give up
        (status(500), 3),  # server error every time: three attempts
        (slow(2.0), 3),  # slower than the 0.5 s timeout every time: three attempts
        (malformed(), 1),  # not JSON: a broken server, retrying would not help
    ],
)
def test_locate__failures_fall_back_to_the_centroid_and_are_not_cached(session, nominatim, client, answer, requests):
    nominatim.script("invalidenstr. 116", answer)

    where = lookup(session, client)

    assert (where.precision.value, where.source, where.note) == ("postcode", "postcode_centroid", "unavailable")
    assert len(nominatim.requests) == requests
    assert cache_entry(session) is None  # a failure is tried again next time


def test_locate__a_timeout_then_an_answer_is_an_address(session, nominatim, client):
    nominatim.script("invalidenstr. 116", slow(2.0), found(*HOUSE))

    assert lookup(session, client).precision.value == "address"
    assert len(nominatim.requests) == 2


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (found(48.1372, 11.5756), "far_from_postcode"),  # the same street name in Munich, 500 km away
        (found(52.52, 13.40, place_rank=16), "not_found"),  # only the city: our PLZ centroid is as good
    ],
)
def test_locate__an_answer_that_does_not_locate_the_address_is_not_used(session, nominatim, client, answer, note):
    nominatim.script("invalidenstr. 116", answer)

    where = lookup(session, client)

    assert (where.precision.value, where.note) == ("postcode", note)


def test_locate__expired_cache_entry_asks_again(session, nominatim, client):
    lookup(session, client, now=NOW - timedelta(days=91))
    assert lookup(session, client).from_cache is False
    assert len(nominatim.requests) == 2


def test_locate__offline_sends_no_request(session, nominatim):
    where = locate(session, street="Invalidenstr. 116", postcode=BERLIN_PLZ, city="Berlin", now=NOW, client=None)

    assert (where.precision.value, where.note) == ("postcode", "offline")
    assert nominatim.requests == []


@pytest.mark.parametrize(
    ("postcode", "street"),
    [
        ("00000", "Hauptstr. 1"),  # a PLZ that does not exist
        ("1011", "Hauptstr. 1"),  # four digits
        (None, "Hauptstr. 1"),  # no PLZ at all
    ],
)
def test_locate__without_valid_plz_the_location_is_missing_not_zero(session, nominatim, client, postcode, street):
    where = lookup(session, client, street=street, postcode=postcode)

    assert (where.latitude, where.longitude, where.precision.value, where.note) == (None, None, "none",
                                                                                    "postcode_unknown")  # fmt: skip
    assert where.missing
    assert nominatim.requests == []


def test_locate__no_street_uses_the_centroid_without_asking(session, nominatim, client):
    where = lookup(session, client, street=None)

    assert (where.precision.value, where.note) == ("postcode", "no_street")
    assert nominatim.requests == []


def test_rate_limit__parallel_job_processes_stay_at_one_request_per_second(committed_db, repo_root):
    with Session(committed_db) as session:
        for i in range(6):
            session.add(Patient(reference=f"P-RATE{i}", first_name="Test", last_name=f"Person{i}", gender="female",
                                birth_date=datetime(1990, 1, 1).date(), postcode=BERLIN_PLZ, city="Berlin",
                                street=f"Invalidenstr. {100 + i}", location_precision="none"))  # fmt: skip
        session.commit()
    with FakeNominatim(default=found(*HOUSE)) as server:
        env = {**os.environ, "NOMINATIM_URL": server.url, "NOMINATIM_USER_AGENT": AGENT}
        workers = [
            subprocess.Popen([sys.executable, "-m", "jobs.geocode_pending", "--batch-size", "1"], cwd=repo_root,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]  # fmt: skip
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0, 0], outputs

        assert len(server.requests) == 6  # every address asked once, although three processes ran
        assert server.smallest_gap() >= 1.0, f"two requests {server.smallest_gap():.3f} s apart"
    with Session(committed_db) as session:
        precisions = session.scalars(select(Patient.location_precision).where(Patient.reference.like("P-RATE%")))
        assert [p.value for p in precisions] == ["address"] * 6
