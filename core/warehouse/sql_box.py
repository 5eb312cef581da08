"""The analysts' read-only SQL box over the aggregated marts: one SELECT, marts only, bounded rows and time.

Defence in depth, each layer enough on its own for its threat:
- the DuckDB file is opened read-only, with file system access, extension loading and configuration
  changes switched off (``read_csv``, ``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD`` fail inside DuckDB);
- exactly one statement, and it must be a SELECT;
- every table it names must be an aggregated mart (``mart_*``) or a dimension (``dim_*``): not the staging
  views, not the row-level facts (one row per search), not DuckDB's catalogue;
- at most ``max_rows`` rows come back, and a query running longer than ``timeout_seconds`` is interrupted.

Example:
    result = run_query("select cohort_month, rate_90 from mart_placement_rates order by 1")
    result.frame, result.truncated
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from core.config import Settings
from core.errors import ValidationError
from core.messages import Message, words
from core.warehouse.read import current_build

MAX_ROWS = 10_000  # enough for any aggregate; a page of a row dump is not what the box is for
TIMEOUT_SECONDS = 10.0  # the marts answer in milliseconds; a query needing longer is a mistake or an attack
ALLOWED_PREFIXES = ("mart_", "dim_")
LOCKED_DOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


@dataclass(frozen=True)
class QueryResult:
    frame: pd.DataFrame
    truncated: bool
    tables: tuple[str, ...]


def allowed_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_type = 'BASE TABLE' order by table_name"
    ).fetchall()
    return [name for (name,) in rows if name.startswith(ALLOWED_PREFIXES)]


def _walk(node: object, found: list[dict], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") in {"BASE_TABLE", "TABLE_FUNCTION"}:
            found.append(node)
        for entry in (node.get("cte_map") or {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(str(entry.get("key", "")).lower())
        for value in node.values():
            _walk(value, found, ctes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found, ctes)


def _invalid(detail: Any) -> Message:
    return Message("sql.invalid", "The query is not valid SQL: {detail}", detail=str(detail))


def _failed(exc: Exception) -> Message:
    return Message("sql.failed", "The query failed: {detail}", detail=str(exc).splitlines()[0])


def _referenced(con: duckdb.DuckDBPyConnection, sql: str, allowed: list[str]) -> set[str]:
    """The relations the parse tree names; table functions and other schemas (the catalogue) are refused."""
    tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise ValidationError(_invalid(tree.get("error_message")), field="sql")
    found: list[dict] = []
    ctes: set[str] = set()
    _walk(tree, found, ctes)
    names = set()
    for node in found:
        if node["type"] == "TABLE_FUNCTION":
            function = (node.get("function") or {}).get("function_name", "?")
            raise ValidationError(
                Message(
                    "sql.table_function",
                    "Table functions such as {function}() are not allowed here; query the marts: {allowed}",
                    function=function,
                    allowed=words(list(allowed)),
                ),
                field="sql",
            )
        schema, name = (node.get("schema_name") or ""), str(node.get("table_name", "")).lower()
        if name in ctes and not schema:
            continue
        names.add(f"{schema}.{name}" if schema and schema != "main" else name)
    return names


def check_query(sql: str, *, allowed: list[str], con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Return the tables ``sql`` reads, or raise ValidationError saying what is not allowed and why."""
    if not sql or not sql.strip():
        raise ValidationError(
            Message("sql.empty", "The query is empty; write one SELECT, e.g. select * from mart_funnel"), field="sql"
        )
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ValidationError(_invalid(exc), field="sql") from None
    if len(statements) != 1:
        raise ValidationError(
            Message("sql.statements", "Write exactly one statement; this query has {count}", count=len(statements)),
            field="sql",
        )
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        raise ValidationError(
            Message(
                "sql.select_only", "Only SELECT is allowed here, not {kind}; the warehouse is read-only", kind=kind
            ),
            field="sql",
        )
    try:
        # 1. bind on the locked-down connection first: a file function fails here, before anything else
        #    looks at the query (it yields the base tables behind views, but not views or the catalogue)
        bound = con.get_table_names(sql)
        # 2. then the names as written (views, information_schema.tables -> 'tables') from the parser
        written = duckdb.get_table_names(sql)
    except duckdb.Error as exc:
        raise ValidationError(_failed(exc), field="sql") from None
    tables = tuple(sorted(set(bound) | set(written) | _referenced(con, sql, allowed)))
    outside = [name for name in tables if name.lower() not in allowed]
    if outside:
        raise ValidationError(
            Message(
                "sql.not_a_mart",
                "Table {table} is not one of the marts; choose from {allowed}",
                table=outside[0],
                allowed=words(list(allowed)),
            ),
            field="sql",
        )
    return tables


def run_query(
    sql: str,
    *,
    max_rows: int = MAX_ROWS,
    timeout_seconds: float = TIMEOUT_SECONDS,
    settings: Settings | None = None,
) -> QueryResult:
    """Run one read-only SELECT over the marts; raise ValidationError for anything else."""
    build = current_build(settings)
    con = duckdb.connect(str(build.path / "warehouse.duckdb"), read_only=True, config=dict(LOCKED_DOWN))
    try:
        tables = check_query(sql, allowed=allowed_tables(con), con=con)
        timer = threading.Timer(timeout_seconds, con.interrupt)
        timer.start()
        try:
            # the analyst's SQL is the point of the box: checked above (one SELECT over marts) and run read-only
            limited = f"select * from ({sql.strip().rstrip(';')}) as q limit {int(max_rows) + 1}"  # noqa: S608
            cursor = con.execute(limited)
            frame = cursor.df()
        except duckdb.InterruptException:
            raise ValidationError(
                Message(
                    "sql.timeout",
                    "The query ran longer than {seconds:g} s and was stopped; aggregate more, or filter first",
                    seconds=timeout_seconds,
                ),
                field="sql",
            ) from None
        except duckdb.Error as exc:
            raise ValidationError(_failed(exc), field="sql") from None
        finally:
            timer.cancel()
    finally:
        con.close()
    truncated = len(frame) > max_rows
    return QueryResult(frame=frame.head(max_rows), truncated=truncated, tables=tables)
