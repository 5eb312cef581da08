"""The extraction's COPY: every value arrives in the Parquet files exactly as PostgreSQL holds it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from core.warehouse.extract import _copy_frame

SCHEMA = {"id": pl.Int64, "at": pl.Datetime("us", "UTC"), "day": pl.Date, "flag": pl.Boolean, "note": pl.String}


def random_rows(rng: random.Random, count: int) -> list[tuple]:
    rows = []
    for row_id in range(count):
        # 1901 to 2099, any microsecond: before 1970 the epoch is negative, which a sloppy conversion rounds
        at = datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(0, 198 * 365 * 86_400 * 10**6))
        rows.append((row_id, rng.choice([None, at]), rng.choice([None, at.date()]), rng.choice([None, True, False]),
                     rng.choice([None, "", "a;b", 'quote " and, comma'])))  # fmt: skip
    return rows


@pytest.mark.parametrize("seed", range(3))
def test_copy_frame__timestamps_dates_and_flags_arrive_exactly(engine, seed):
    rows = random_rows(random.Random(seed), 300)
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL TimeZone = 'Europe/Berlin'")  # the server's zone must not matter
            cursor.execute("CREATE TEMP TABLE copied (id int8, at timestamptz, day date, flag bool, note text)")
            cursor.executemany("INSERT INTO copied VALUES (%s, %s, %s, %s, %s)", rows)
            frame = _copy_frame(cursor, "SELECT c.id, c.at, c.day, c.flag, c.note FROM copied c", SCHEMA)
    finally:
        connection.rollback()
        connection.close()
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame.sort("id").rows() == rows
