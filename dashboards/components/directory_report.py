"""An import's report: the counts, then new / changed field by field / vanished / conflicts / review / rejected."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core.messages import restore
from dashboards.i18n import say, t

COUNTS = ("new", "changed", "unchanged", "not_seen", "inactive", "back", "conflicts", "review", "rejected", "warnings")


def _value(value: Any) -> str:
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _revived(value: Any) -> Any:
    """A stored message parameter again as a Message (a dict with a code), so say() translates it too."""
    if isinstance(value, dict) and "code" in value:
        return restore(value["code"], value.get("text", ""), {k: _revived(v) for k, v in value["params"].items()})
    if isinstance(value, list):
        return [_revived(item) for item in value]
    return value


def problem_text(problem: dict[str, Any]) -> str:
    """A report's problem in the user's language (reports stored before problems had codes: as stored)."""
    if "code" not in problem:
        return problem["message"]
    return say(_revived({"code": problem["code"], "text": problem["message"], "params": problem.get("params", {})}))


def _problem_row(problem: dict[str, Any]) -> dict[str, Any]:
    line = problem["line"] and t("directory.line", line=problem["line"])
    where = ", ".join(str(x) for x in (problem["file"], line, problem["entry"], problem["field"]) if x)
    return {**problem, "severity": t(f"directory.severity.{problem['severity']}"), "where": where,
            "message": problem_text(problem)}  # fmt: skip


def _table(rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    if not rows:
        st.caption(t("directory.section.empty"))
        return
    frame = pd.DataFrame([{t(f"directory.col.{label}"): _value(row.get(key)) for key, label in columns.items()}
                          for row in rows])  # fmt: skip
    st.dataframe(frame, hide_index=True, width="stretch")


def show(report: dict[str, Any], *, key: str) -> None:
    """Render ``report`` (a preview's or a committed import's)."""
    counts = report["counts"]
    for row in (COUNTS[:5], COUNTS[5:]):
        for column, name in zip(st.columns(len(row)), row, strict=True):
            column.metric(t(f"directory.count.{name}"), counts.get(name, 0))
    st.caption(t("directory.covered", count=len(report.get("covered_postcodes", []))))

    def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "field": t(f"directory.field.{row['field']}")} for row in rows]

    sections = (
        ("new", report["new"], {"name": "name", "postcode": "postcode", "city": "city"}),
        ("changed", named(report["changed"]), {"name": "name", "field": "field", "old": "old", "new": "new"}),
        ("vanished", report["vanished"], {"name": "name", "postcode": "postcode", "not_seen_since": "since",
                                          "missed_imports": "missed", "goes_inactive": "inactive"}),
        ("conflicts", named(report["conflicts"]),
         {"name": "name", "field": "field", "kept": "kept", "imported": "imported"}),
        ("review", [{**r, "differs": t(f"directory.differs.{r['differs']}")} for r in report["review"]],
         {"name": "name", "differs": "differs"}),
        ("problems", [_problem_row(p) for p in report["problems"]],
         {"severity": "severity", "where": "where", "message": "message"}),
    )  # fmt: skip
    for name, rows, columns in sections:
        with st.expander(f"{t(f'directory.section.{name}')} ({len(rows)})", expanded=bool(rows) and name != "new"):
            _table(rows, columns)


def mapping(
    file: str, headers: list[str], suggested: dict[str, str], *, options: list[str], key: str
) -> dict[str, str]:
    """One select box per column of a CSV/Excel file: which of our fields it holds; returns the mapping."""
    chosen = {}
    for column, header in zip(st.columns(4) * len(headers), headers, strict=False):
        chosen[header] = column.selectbox(
            header, options, index=options.index(suggested.get(header, "")), key=f"{key}_map_{file}_{header}",
            format_func=lambda o: o or t("directory.mapping.ignore"),
        )  # fmt: skip
    return chosen
