"""Write generated demo rows in bulk, turning row keys and references into database ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core.db.models import metadata
from core.demo.generate import INSERT_ORDER, DemoData
from core.demo.refs import Ref


def write_rows(session: Session, data: DemoData) -> dict[str, int]:
    """Insert every table's rows with one multi-row statement per 1,000 rows; return rows per table."""
    ids: dict[str, dict[int, int]] = {}
    counts: dict[str, int] = {}
    for name in INSERT_ORDER:
        rows = data.get(name, [])
        counts[name] = len(rows)
        ids[name] = {}
        if not rows:
            continue
        table = metadata.tables[name]
        params = [{column: _resolve(value, ids) for column, value in row.items() if column != "id"} for row in rows]
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), params)
        ids[name] = {row["id"]: new_id for row, new_id in zip(rows, result.scalars(), strict=True)}
    return counts


def _resolve(value: Any, ids: dict[str, dict[int, int]]) -> Any:
    if isinstance(value, Ref):
        new_id = ids[value.table][value.key]
        return str(new_id) if value.as_text else new_id
    if isinstance(value, list):
        return [_resolve(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, ids) for key, item in value.items()}
    return value
