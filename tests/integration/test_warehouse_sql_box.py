"""The analysts' SQL box: reads the marts, and nothing else gets through."""

from __future__ import annotations

import duckdb
import pytest

from core.errors import ValidationError
from core.warehouse import sql_box


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A published build with two marts, a fact table and a staging view (the layout the build writes)."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    from core.config import get_settings

    get_settings.cache_clear()
    build = tmp_path / "warehouse" / "builds" / "20261130T220000000000Z"
    build.mkdir(parents=True)
    con = duckdb.connect(str(build / "warehouse.duckdb"))
    rows = "(1, 'proposed', 40), (2, 'sent', 30)"
    con.execute(f"create table mart_funnel as select * from (values {rows}) v(step_order, step, items)")
    con.execute("create table dim_regions as select '101' as region3, 12 as searches")
    con.execute("create table fct_search_spells as select 'S-1' as search_pseudonym")
    con.execute("create view stg_searches as select 'S-1' as search_pseudonym")
    con.close()
    (tmp_path / "warehouse" / "current").symlink_to("builds/20261130T220000000000Z")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    yield tmp_path
    get_settings.cache_clear()


def test_sql_box__answers_a_select_over_the_marts(warehouse):
    result = sql_box.run_query("select step, items from mart_funnel join dim_regions on true order by step_order")
    assert list(result.frame["step"]) == ["proposed", "sent"]
    assert result.tables == ("dim_regions", "mart_funnel")
    assert result.truncated is False


def test_sql_box__common_table_expressions_are_fine(warehouse):
    result = sql_box.run_query("with f as (select * from mart_funnel) select count(*) as n from f")
    assert result.frame["n"].iloc[0] == 2


def test_sql_box__limits_the_rows(warehouse):
    result = sql_box.run_query("select * from mart_funnel", max_rows=1)
    assert len(result.frame) == 1
    assert result.truncated is True


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("create table x as select 1", "Only SELECT"),  # a write
        ("insert into mart_funnel values (3, 'x', 1)", "Only SELECT"),  # a write into a mart
        ("delete from mart_funnel", "Only SELECT"),  # a delete
        ("copy mart_funnel to '/tmp/out.csv'", "Only SELECT"),  # COPY out
        ("attach '/tmp/other.duckdb'", "Only SELECT"),  # ATTACH another file
        ("install httpfs", "Only SELECT"),  # INSTALL an extension
        ("load httpfs", "Only SELECT"),  # LOAD an extension
        ("set enable_external_access = true", "Only SELECT"),  # unlock the configuration
        ("select 1; select 2", "exactly one statement"),  # a second statement smuggled in
        ("select * from fct_search_spells", "not one of the marts"),  # row-level facts
        ("select * from stg_searches", "not one of the marts"),  # staging views
        ("select * from information_schema.tables", "not one of the marts"),  # the catalogue
        ("select * from range(3)", "Table functions"),  # a table function
        ("select * from duckdb_tables()", "Table functions"),  # the catalogue through a function
        ("", "empty"),  # nothing
    ],
)
def test_sql_box__refuses(warehouse, sql, message):
    with pytest.raises(ValidationError, match=message):
        sql_box.run_query(sql)


@pytest.mark.parametrize("function", ["read_csv", "read_csv_auto", "read_text", "read_parquet", "glob"])
def test_sql_box__file_functions_are_refused(warehouse, function):
    path = warehouse / "secret.csv"
    with pytest.raises(ValidationError, match=r"failed|Permission|not one of"):
        sql_box.run_query(f"select * from {function}('{path}')")


def test_sql_box__a_long_query_is_interrupted(warehouse):
    endless = (
        "with recursive r(i) as (select 1 union all select i + 1 from r where i < 1000000000) select count(*) from r"
    )
    with pytest.raises(ValidationError, match="longer than"):
        sql_box.run_query(endless, timeout_seconds=0.5)
