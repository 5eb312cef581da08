"""Numbers and charts for the analytics pages, in the user's language: 1.234,5 and 12,5 % in German."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.i18n import current_language, t


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def number(value: Any, decimals: int = 0) -> str:
    """Format a number for the current language; '–' for a missing one, '< 5' stays as it is."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return "–"
    text = f"{value:,.{decimals}f}"
    if current_language() == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: Any, decimals: int = 0) -> str:
    """Format a share (0.125) as a percentage ('12,5 %' in German, '12.5%' in English)."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return "–"
    shown = number(value * 100, decimals)
    return f"{shown} %" if current_language() == "de" else f"{shown}%"


def rank(series: pd.Series) -> pd.Series:
    """Sort key for a column that may hold "< 5": hidden values sort last."""
    return series.map(lambda v: -1 if isinstance(v, str) else v)


def day(value: Any) -> str:
    """Format a date as 01.03.2026 (German) or 2026-03-01 (English)."""
    if _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return stamp.strftime("%d.%m.%Y") if current_language() == "de" else stamp.strftime("%Y-%m-%d")


def downloads(frame: pd.DataFrame, *, name: str, key: str) -> None:
    """Offer a table as CSV and as Excel (what is shown is what is downloaded: small cells stay hidden).

    The files are made when a button is pressed, not on every run: an Excel file of 30,000 practices
    took longer than the whole page should.
    """
    frame = frame.copy()
    left, right = st.columns(2)
    left.download_button(
        t("analytics.download_csv"),
        lambda: frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
    )
    right.download_button(
        t("analytics.download_excel"),
        lambda: excel_bytes(frame, sheet=name[:31]),
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        icon=":material/table_view:",
    )


def excel_bytes(frame: pd.DataFrame, *, sheet: str) -> bytes:
    """Return ``frame`` as an Excel workbook with one sheet."""
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name=sheet)
    return buffer.getvalue()
