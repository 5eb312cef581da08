"""The extraction's COPY: every value arrives in the Parquet files exactly as PostgreSQL holds it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import adbc_driver_postgresql.dbapi as adbc
import polars as pl
import pytest

from core.warehouse.extract import _adbc_uri, _copy_frame

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
    helper = engine.raw_connection()
    try:
        with helper.cursor() as cursor:  # the rows as typed SQL literals
            values = ", ".join(
                cursor.mogrify("(%s::int8, %s::timestamptz, %s::date, %s::bool, %s::text)", row).decode()
                for row in rows
            )
    finally:
        helper.close()
    connection = adbc.connect(_adbc_uri(engine), autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL TimeZone = 'Europe/Berlin'")  # the server's zone must not matter
            query = f"SELECT c.id, c.at, c.day, c.flag, c.note FROM (VALUES {values}) AS c(id, at, day, flag, note)"
            frame = _copy_frame(cursor, query, SCHEMA)
            cursor.execute("ROLLBACK")
    finally:
        connection.close()
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame.sort("id").rows() == rows


def test_copy_frame__an_empty_result_keeps_the_types(engine):
    connection = adbc.connect(_adbc_uri(engine), autocommit=True)
    try:
        with connection.cursor() as cursor:
            frame = _copy_frame(cursor, "SELECT 1 AS id, now() AS at, current_date AS day, true AS flag, "
                                        "'x' AS note WHERE false", SCHEMA)  # fmt: skip
    finally:
        connection.close()
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame.is_empty()
