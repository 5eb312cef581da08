"""A readable weekly grid of a patient's availability: hours down, weekdays across, filled cells shaded."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import formatting
from dashboards.i18n import t

FIRST_HOUR, LAST_HOUR = 7, 22  # therapy practices rarely offer sessions outside 07:00-22:00: shown always


def _covered(windows: list[dict[str, Any]], weekday: int, hour: int) -> bool:
    start, end = hour * 60, (hour + 1) * 60
    for w in windows:
        if w["weekday"] != weekday:
            continue
        ws = int(w["start"][:2]) * 60 + int(w["start"][3:])
        we = int(w["end"][:2]) * 60 + int(w["end"][3:])
        if ws < end and we > start:
            return True
    return False


def _hours(windows: list[dict[str, Any]]) -> range:
    """Hours to show: the usual practice day, widened to any window outside it (a late shift, 23:00-01:00)."""
    starts = [int(w["start"][:2]) for w in windows]
    ends = [int(w["end"][:2]) + (w["end"][3:] != "00") for w in windows]
    return range(min([FIRST_HOUR, *starts]), max([LAST_HOUR, *ends]))


def frame(windows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the grid: one row per hour, one column per weekday ("Mo".."So"), "●" where a window covers it."""
    days = [t(f"weekday.{d}")[:2] for d in range(7)]
    hours = _hours(windows)
    return pd.DataFrame(
        [["●" if _covered(windows, d, h) else "" for d in range(7)] for h in hours],
        index=[f"{h:02d}:00" for h in hours],
        columns=days,
    )


def show(windows: list[dict[str, Any]], *, weekly_hours: float) -> None:
    """Render the grid, or an empty-state sentence when no window is entered."""
    if not windows:
        st.info(t("patient.grid_empty"))
        return
    styled = frame(windows).style.map(
        lambda v: "background-color: #cfe6e8; color: #1f6f78; text-align: center" if v else ""
    )
    st.caption(t("patient.weekly_hours", hours=formatting.number(weekly_hours)))
    st.table(styled)
