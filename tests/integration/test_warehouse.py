"""The reporting warehouse built from a real PostgreSQL with the demo data: pseudonymised, reconciled, atomic."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import get_settings
from core.demo.service import seed
from core.errors import NotFound
from core.warehouse import build as warehouse_build
from core.warehouse.build import WarehouseCheckFailed, build_warehouse
from core.warehouse.read import connect, current_build, mart_names, read_mart, read_mart_rows, suppress_small_cells
from tests.conftest import truncate_all

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse(engine):
    """The demo data committed and one published warehouse build (emptied afterwards)."""
    truncate_all(engine)
    with Session(engine) as session:
        seed(session, therapists=1200, patients=200, seed=7, today=TODAY)
        session.commit()
    with Session(engine) as session:
        summary = build_warehouse(session, now=NOW)
    yield summary
    truncate_all(engine)
    shutil.rmtree(get_settings().data_dir / "warehouse", ignore_errors=True)


def pg(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_build__publishes_a_build_whose_marts_match_postgres(warehouse, engine):
    assert warehouse["published"] is True
    info = current_build()
    assert info.build == warehouse["build"]
    with connect() as con:
        spells = con.execute("select count(*) from fct_search_spells").fetchone()[0]
        placed = con.execute("select count(*) from fct_search_spells where is_placed").fetchone()[0]
        items = con.execute("select count(*) from fct_inquiry_items").fetchone()[0]
    assert spells == pg(engine, "SELECT count(*) FROM search") > 0
    assert placed == pg(engine, "SELECT count(*) FROM placement") > 0
    assert items == pg(engine, "SELECT count(*) FROM inquiry_item") > 0


def test_build__every_relation_of_the_published_warehouse_can_be_read(warehouse):
    # a view over the staging folder's files would break once the build is moved into place and published
    with connect() as con:
        relations = [row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()]
        for name in relations:
            con.execute(f'select count(*) from "{name}"').fetchone()
    assert "fct_inquiry_items" in relations


def test_build__every_metric_mart_exists_and_has_rows(warehouse):
    with connect() as con:
        names = set(mart_names(con))
    expected = {
        "fct_search_spells", "fct_inquiry_items", "dim_practices", "dim_regions", "dim_weeks",
        "mart_placement_rates", "mart_time_to_placement", "mart_time_to_placement_summary", "mart_funnel",
        "mart_response_rates", "mart_contacts_per_placement", "mart_staff_efficiency", "mart_bottlenecks",
        "mart_weekly_trends", "mart_kpis", "mart_calibration",
    }  # fmt: skip
    assert expected <= names
    for name in expected:
        assert len(read_mart(name)) > 0, f"{name} is empty on the demo data"


def test_build__funnel_counts_equal_postgres(warehouse, engine):
    funnel = read_mart("mart_funnel", order_by="step_order").set_index("step")["items"]
    assert funnel["proposed"] == pg(engine, "SELECT count(*) FROM inquiry_item")
    assert funnel["approved"] == pg(
        engine,
        "SELECT count(*) FROM inquiry_item it JOIN inquiry i ON i.id = it.inquiry_id WHERE i.approved_at IS NOT NULL",
    )
    assert funnel["offered"] == pg(
        engine,
        "SELECT count(*) FROM inquiry_item it JOIN inquiry i ON i.id = it.inquiry_id "
        "WHERE i.sent_at IS NOT NULL AND it.outcome IN ('accepted', 'no_show', 'in_sessions')",
    )


def _warehouse_files() -> list[Path]:
    root = get_settings().data_dir / "warehouse"
    return [p for p in root.rglob("*") if p.is_file()]


def test_warehouse__holds_no_names_contacts_streets_or_birth_dates(warehouse, engine):
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT first_name, last_name, email, phone, street, birth_date, reference FROM patient")
        ).all()
    needles: set[str] = set()
    for first, last, email, phone, street, birth, reference in rows:
        # single first or last names also name public therapists and practices; full names never may appear
        needles |= {v for v in (f"{first} {last}", f"{last}, {first}", email, phone, street, reference) if v}
        needles.add(birth.isoformat())
        needles.add(f"{birth:%d.%m.%Y}")
    assert needles
    with connect() as con:
        for name in mart_names(con):
            frame = con.execute(f'select * from "{name}"').df()
            text_cells = {str(v) for v in frame.astype(str).to_numpy().ravel()}
            leaked = needles & text_cells
            assert not leaked, f"{name} holds personal data: {sorted(leaked)[:3]}"
    for path in _warehouse_files():
        raw = path.read_bytes()
        for needle in needles:
            if "-" in needle and needle[:4].isdigit():
                continue  # ISO dates are checked as values in the marts above; process dates may coincide
            assert needle.encode() not in raw, f"{path.name} holds {needle!r}"


def test_warehouse__holds_no_raw_patient_or_search_ids(warehouse):
    with connect() as con:
        columns = {row[0] for name in mart_names(con) for row in con.execute(f'describe "{name}"').fetchall()}
    assert not {"patient_id", "search_id", "search_key", "patient_key"} & columns


def test_warehouse__files_are_private(warehouse):
    root = get_settings().data_dir / "warehouse"
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"


def test_pseudonyms__are_stable_across_builds(warehouse, engine):
    first = set(read_mart("fct_search_spells")["search_pseudonym"])
    with Session(engine) as session:
        second_summary = build_warehouse(session, now=NOW.replace(minute=5))
    assert second_summary["published"]
    assert set(read_mart("fct_search_spells")["search_pseudonym"]) == first


def test_build__a_failing_check_leaves_the_previous_build_published(warehouse, engine, tmp_path, monkeypatch):
    published = current_build().build
    broken = tmp_path / "sql"
    shutil.copytree(warehouse_build.DBT_PROJECT, broken, ignore=shutil.ignore_patterns("target", "logs"))
    (broken / "tests" / "always_fails.sql").write_text("select 1 as broken_on_purpose\n")
    monkeypatch.setattr(warehouse_build, "DBT_PROJECT", broken)
    with Session(engine) as session, pytest.raises(WarehouseCheckFailed, match="always_fails"):
        build_warehouse(session, now=NOW.replace(minute=10))
    assert current_build().build == published
    with connect() as con:
        assert con.execute("select count(*) from fct_search_spells").fetchone()[0] > 0


def test_build__a_broken_model_leaves_the_previous_build_published(warehouse, engine, tmp_path, monkeypatch):
    published = current_build().build
    broken = tmp_path / "sql"
    shutil.copytree(warehouse_build.DBT_PROJECT, broken, ignore=shutil.ignore_patterns("target", "logs"))
    model = broken / "models" / "marts" / "mart_funnel.sql"
    model.write_text(model.read_text().replace("from items", "from no_such_table", 1))
    monkeypatch.setattr(warehouse_build, "DBT_PROJECT", broken)
    with Session(engine) as session, pytest.raises(WarehouseCheckFailed, match="mart_funnel"):
        build_warehouse(session, now=NOW.replace(minute=15))
    assert current_build().build == published


def test_read__the_connection_is_read_only(warehouse):
    with connect() as con, pytest.raises(duckdb.Error):
        con.execute("create table x as select 1")


def test_suppress_small_cells__hides_rows_below_five_patients():
    import pandas as pd

    frame = pd.DataFrame({"region3": ["101", "102", "103"], "searches": [4, 12, 30], "rate": [0.5, 0.25, 0.1]})
    shown = suppress_small_cells(frame)
    assert shown.loc[0, "searches"] == "< 5"
    assert shown.loc[0, "rate"] == "< 5"
    assert shown.loc[0, "region3"] == "101"
    assert shown.loc[1, "searches"] == "< 5"  # secondary: else the total minus 30 would give 101 away
    assert shown.loc[2, "searches"] == 30
    assert shown.loc[2, "rate"] == 0.1


def test_read_mart_rows__returns_only_the_matching_rows_in_order(warehouse):
    whole = read_mart("mart_response_rates")
    regions = read_mart_rows("mart_response_rates", where={"dimension": "region3"}, order_by="items desc, value")
    assert set(regions["dimension"]) == {"region3"}
    assert len(regions) == (whole["dimension"] == "region3").sum() > 0
    assert list(regions["items"]) == sorted(regions["items"], reverse=True)


def test_read_mart_rows__an_unknown_column_is_a_clear_error(warehouse):
    with pytest.raises(NotFound, match="has no column region9"):
        read_mart_rows("mart_response_rates", where={"region9": "1"})
    with pytest.raises(NotFound, match="optional asc or desc"):
        read_mart_rows("mart_response_rates", where={"dimension": "x"}, order_by="items sideways")


def test_mart_names__are_the_base_tables_information_schema_lists(warehouse):
    # the fast catalog lookup must list exactly the marts the standard catalog view does (no views, no staging)
    def by_information_schema(con):
        return [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_type = 'BASE TABLE' "
            "and (table_name like 'mart\\_%' escape '\\' or table_name like 'fct\\_%' escape '\\' "
            "or table_name like 'dim\\_%' escape '\\') order by table_name"
        ).fetchall()]  # fmt: skip

    with connect() as con:
        assert mart_names(con) == by_information_schema(con)
        assert "mart_kpis" in mart_names(con)
    con = duckdb.connect()
    try:
        con.execute("create table mart_a (x int); create table fct_b (x int); create table dim_c (x int)")
        con.execute("create table stg_d (x int); create view mart_v as select 1 as x; create table martx (x int)")
        con.execute("create schema other; create table other.mart_e (x int)")
        assert mart_names(con) == by_information_schema(con) == ["dim_c", "fct_b", "mart_a", "mart_e"]
    finally:
        con.close()
