"""The analytics pages' shared frame: which build they show, a rebuild for those allowed, reading marts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import clock
from core.errors import NotFound
from dashboards import data
from dashboards.components.figures import day
from dashboards.i18n import t

REBUILD_ROLES = frozenset({"admin", "manager"})
ANALYTICS_ROLES = frozenset({"admin", "manager", "analyst", "staff"})


def _rebuild(user: Any) -> None:
    from core.operations import runner

    with st.status(t("analytics.rebuilding"), expanded=False) as status:
        run = runner.run_job("build_warehouse", triggered_by=user.email)
        if run.status.value == "succeeded":
            extracted = day((run.counts or {}).get("extracted_on"))
            status.update(label=t("analytics.rebuilt", extracted=extracted), state="complete")
            data.warehouse_mart.clear()
        elif run.status.value == "skipped":
            status.update(label=t("analytics.rebuild_skipped"), state="error")
        else:
            status.update(label=t("analytics.rebuild_failed", error=run.error), state="error")


def show_build(*, user: Any, key: str) -> Any | None:
    """Say which build the page shows and offer a rebuild; return the build, or None (page stops) without one."""
    try:
        build = data.warehouse_build()
    except NotFound:
        build = None
    left, right = st.columns([4, 1], vertical_alignment="center")
    if build is None:
        left.info(t("analytics.empty"))
    else:
        built = clock.local(build.built_at).strftime("%d.%m.%Y %H:%M") if build.built_at else "–"
        left.caption(t("analytics.built", extracted=day(build.extracted_on), built=built))
    allowed = user.role in REBUILD_ROLES
    if allowed and right.button(t("analytics.rebuild"), key=f"{key}_rebuild", icon=":material/refresh:"):
        _rebuild(user)
        try:
            build = data.warehouse_build()
        except NotFound:
            build = None
    if user.role == "analyst":
        st.caption(t("analytics.small_cells"))
    return build


def mart(name: str, *, build: Any, user: Any, order_by: str | None = None) -> pd.DataFrame:
    """Read a mart of ``build``; analysts get small cells (fewer than 5 patients) hidden."""
    from core.warehouse.read import suppress_small_cells

    frame = data.warehouse_mart(name, build.build, order_by)
    return suppress_small_cells(frame) if user.role == "analyst" else frame.copy()
