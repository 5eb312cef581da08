"""Read the published warehouse: one read-only DuckDB connection, marts only, small cells hidden for analysts.

Notebooks and pages open the warehouse through ``connect()`` and never the operational database:

    from core.warehouse.read import connect
    with connect() as con:
        rates = con.sql("select * from mart_placement_rates order by cohort_month").df()

Small cells: a figure computed from fewer than ``MIN_CELL`` patients could single a patient out, so the
analyst role sees "< 5" instead (``suppress_small_cells``), in pages, downloads and the report builder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core.config import Settings, get_settings
from core.errors import NotFound

MIN_CELL = 5  # patients; below this a figure is shown as "< 5" to analysts
SUPPRESSED = "< 5"
# columns that count patients or searches: a row whose count is below MIN_CELL is suppressed whole
PATIENT_COUNT_COLUMNS = ("searches", "waiting_searches", "at_risk", "observed_30", "new_searches")


@dataclass(frozen=True)
class BuildInfo:
    """Which build is published and when it was made."""

    build: str
    path: Path
    built_at: datetime | None
    extracted_on: str | None
    rows: dict[str, int]


def current_build(settings: Settings | None = None) -> BuildInfo:
    """Return the published build or raise NotFound telling how to build one."""
    root = (settings or get_settings()).data_dir / "warehouse"
    link = root / "current"
    if not link.exists():
        raise NotFound(
            "No warehouse has been built yet; run `python -m jobs.build_warehouse` "
            "(make run builds it after loading the demo data) or press 'Jetzt neu aufbauen'"
        )
    path = link.resolve()
    manifest: dict[str, Any] = {}
    if (path / "manifest.json").exists():
        manifest = json.loads((path / "manifest.json").read_text())
    built_at = None
    try:
        built_at = datetime.strptime(path.name, "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        built_at = None
    return BuildInfo(
        build=path.name,
        path=path,
        built_at=built_at,
        extracted_on=manifest.get("extracted_on"),
        rows=manifest.get("rows", {}),
    )


def connect(settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (a DuckDB connection; close it, or use it as a context manager)."""
    build = current_build(settings)
    return duckdb.connect(str(build.path / "warehouse.duckdb"), read_only=True)


def mart_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts (facts, dimensions, metric marts) a reader may query; staging views are not among them."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_type = 'BASE TABLE' "
        "and (table_name like 'mart\\_%' escape '\\' or table_name like 'fct\\_%' escape '\\' "
        "or table_name like 'dim\\_%' escape '\\') order by table_name"
    ).fetchall()
    return [row[0] for row in rows]


def read_mart(name: str, *, settings: Settings | None = None, order_by: str | None = None) -> pd.DataFrame:
    """Return one mart as a frame, e.g. ``read_mart("mart_funnel", order_by="step_order")``."""
    with connect(settings) as con:
        if name not in mart_names(con):
            raise NotFound(f"'{name}' is not a mart of the warehouse; choose one of {', '.join(mart_names(con))}")
        query = f'select * from "{name}"'  # noqa: S608 - name is one of the marts listed above, never free input
        if order_by:
            columns = {row[0] for row in con.execute(f'describe "{name}"').fetchall()}
            unknown = [c.strip().split()[0] for c in order_by.split(",") if c.strip().split()[0] not in columns]
            if unknown:
                raise NotFound(f"'{name}' has no column {unknown[0]}; choose one of {', '.join(sorted(columns))}")
            query += f" order by {order_by}"
        return con.execute(query).df()


def suppress_small_cells(frame: pd.DataFrame, *, count_columns: Iterable[str] = PATIENT_COUNT_COLUMNS) -> pd.DataFrame:
    """Return a copy in which every row counting fewer than MIN_CELL patients shows "< 5" in its figures.

    The count column itself and every numeric column of such a row become "< 5"; labels stay readable.
    """
    present = [c for c in count_columns if c in frame.columns]
    if not present or frame.empty:
        return frame.copy()
    small = pd.Series(False, index=frame.index)
    for column in present:
        values = pd.to_numeric(frame[column], errors="coerce")
        small |= values.notna() & (values < MIN_CELL)
    result = frame.copy()
    numeric = [c for c in result.columns if pd.api.types.is_numeric_dtype(result[c]) or c in present]
    for column in numeric:
        result[column] = result[column].astype(object)
        result.loc[small, column] = SUPPRESSED
    return result
