"""The dbt macros' DuckDB fast paths give exactly what their standard SQL definition gives."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import duckdb
import jinja2
import pytest

from core.config import REPO_ROOT

SOURCE = (REPO_ROOT / "sql" / "macros" / "seconds_between.sql").read_text()
MACROS = jinja2.Environment(autoescape=False).from_string(SOURCE).module  # noqa: S701 - SQL, not HTML


def random_instants(rng: random.Random, count: int) -> list[tuple[datetime, datetime]]:
    start = datetime(1901, 1, 1, tzinfo=UTC)
    span = 198 * 365 * 86_400 * 10**6  # microseconds: 1901 to 2099, before 1970 the epoch is negative
    pairs = []
    for _ in range(count):
        earlier = start + timedelta(microseconds=rng.randrange(span))
        later = earlier + timedelta(
            microseconds=rng.choice([0, 1, rng.randrange(10**6), rng.randrange(10**13), rng.randrange(span)])
            * rng.choice([1, -1])
        )
        pairs.append((later, earlier))
    return pairs


def seconds_between(pairs: list[tuple[datetime, datetime]], zone: str, macro: str) -> list[float]:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    con.execute("CREATE TABLE pairs (n INT, later TIMESTAMPTZ, earlier TIMESTAMPTZ)")
    con.executemany("INSERT INTO pairs VALUES (?, ?, ?)", [(n, *pair) for n, pair in enumerate(pairs)])
    expression = str(getattr(MACROS, macro)("later", "earlier"))
    return [row[0] for row in con.execute(f"SELECT {expression} / 86400.0 FROM pairs ORDER BY n").fetchall()]


@pytest.mark.parametrize("seed", range(3))
def test_seconds_between__duckdb_equals_the_standard_definition_in_utc(seed):
    # to the last bit but for DuckDB's rounding of days + seconds through an interval (one unit in the last place)
    pairs = random_instants(random.Random(seed), 2_000)
    fast = seconds_between(pairs, "UTC", "duckdb__seconds_between")
    standard = seconds_between(pairs, "UTC", "default__seconds_between")
    assert all(math.isclose(a, b, rel_tol=1e-15, abs_tol=1e-15) for a, b in zip(fast, standard, strict=True))


@pytest.mark.parametrize("seed", range(3))
def test_seconds_between__is_the_elapsed_time_whatever_the_session_zone(seed):
    # DuckDB's interval between two timestamptz counts calendar days in the session's zone (a DST day has 24
    # hours there); PostgreSQL's, like this macro, counts elapsed time
    pairs = random_instants(random.Random(seed), 2_000)
    fast = seconds_between(pairs, "Europe/Berlin", "duckdb__seconds_between")
    assert fast == [(later - earlier) / timedelta(seconds=1) / 86400.0 for later, earlier in pairs]
