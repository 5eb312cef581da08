"""Incremental warehouse builds: only rows changed since the published build are extracted, and the marts
come out exactly as a full build's."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import get_settings
from core.warehouse.build import build_warehouse
from core.warehouse.read import current_build, mart_names
from tests.support.warehouse import NOW, demo_warehouse


@pytest.fixture(scope="module")
def first_build(engine):
    """The demo data committed and one full build published (both removed afterwards)."""
    with demo_warehouse(engine, seed=11, now=NOW) as demo:
        yield demo.summary


def change_some_rows(engine) -> None:
    """What a day of work does, written by hand-made SQL so that no ORM timestamp could give it away."""
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE inquiry_item SET outcome = 'declined_other', answered_at = now() "
            "WHERE id = (SELECT min(id) FROM inquiry_item WHERE outcome = 'pending')"
        ))  # fmt: skip
        conn.execute(text("DELETE FROM phone_call WHERE id = (SELECT min(id) FROM phone_call)"))
        conn.execute(
            text("UPDATE practice SET name = name || ' (umgezogen)' WHERE id = (SELECT min(id) FROM practice)")
        )
        conn.execute(text(
            "UPDATE search SET status = 'cancelled', ended_on = DATE '2026-11-30' "
            "WHERE id = (SELECT min(id) FROM search WHERE status = 'active')"
        ))  # fmt: skip


def marts_of(build_id: str) -> dict[str, pd.DataFrame]:
    path = get_settings().data_dir / "warehouse" / "builds" / build_id / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        frames = {}
        for name in mart_names(con):
            frame = con.execute(f'select * from "{name}"').df()
            frames[name] = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
        return frames


def test_incremental_build__after_changes_equals_a_full_build(first_build, engine):
    change_some_rows(engine)
    with Session(engine) as session:
        incremental = build_warehouse(session, now=NOW + timedelta(minutes=5))
    with Session(engine) as session:
        full = build_warehouse(session, now=NOW + timedelta(minutes=10), full=True)

    assert incremental["full"] is False
    assert full["full"] is True
    assert incremental["tables"]["inquiry_items"] == "incremental"
    assert incremental["tables"]["phone_calls"] == "incremental"  # a deletion is a change too
    assert incremental["rows"] == full["rows"]
    fast, whole = marts_of(incremental["build"]), marts_of(full["build"])
    assert fast.keys() == whole.keys()
    for name in whole:
        pd.testing.assert_frame_equal(fast[name], whole[name], check_exact=False, rtol=1e-9, obj=name)
    with duckdb.connect(str(current_build().path / "warehouse.duckdb"), read_only=True) as con:
        names = {row[0] for row in con.execute("select practice_name from dim_practices").fetchall()}
    assert any(name.endswith("(umgezogen)") for name in names)


def test_incremental_build__skips_the_tables_nobody_changed(first_build, engine):
    with Session(engine) as session:
        before = build_warehouse(session, now=NOW + timedelta(minutes=20))
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE inquiry_item SET outcome = 'no_answer' WHERE id = (SELECT max(id) FROM inquiry_item)"
        ))  # fmt: skip
    with Session(engine) as session:
        after = build_warehouse(session, now=NOW + timedelta(minutes=25))

    assert after["rows_copied"]["inquiry_items"] == 1  # one changed row of many copied out of PostgreSQL
    assert after["rows"]["inquiry_items"] > 100
    assert after["tables"]["emails"] == "unchanged"
    assert after["rows_copied"]["emails"] == 0
    assert after["tables"]["therapists"] == "unchanged"
    root = get_settings().data_dir / "warehouse" / "builds"
    earlier, later = root / before["build"] / "raw", root / after["build"] / "raw"
    assert (later / "emails.parquet").samefile(earlier / "emails.parquet")  # linked, not written again
    assert not (later / "inquiry_items.parquet").samefile(earlier / "inquiry_items.parquet")


def test_full_build__copies_every_row_again(first_build, engine):
    with Session(engine) as session:
        summary = build_warehouse(session, now=NOW + timedelta(minutes=30), full=True)
    assert set(summary["tables"].values()) == {"full"}
    assert summary["rows_copied"] == summary["rows"]
