"""Engpässe: where waiting searches outnumber the practices that take patients, ranked."""

from __future__ import annotations

import streamlit as st

from dashboards.components import warehouse
from dashboards.components.figures import downloads, number, rank
from dashboards.components.login import require_user
from dashboards.i18n import t

DIMENSIONS = ["region3", "procedure", "age_band", "language"]

user = require_user()
st.title(t("analytics.bottlenecks.title"))
build = warehouse.show_build(user=user, key="bottlenecks")
if build is None:
    st.stop()

dimension = st.segmented_control(
    t("analytics.bottleneck.dimension"),
    DIMENSIONS,
    default="region3",
    format_func=lambda d: t(f"analytics.bottleneck.{d}"),
    key="dimension",
)
frame = warehouse.mart("mart_bottlenecks", build=build, user=user)
frame = frame[frame["dimension"] == (dimension or "region3")].drop(columns="dimension")
ranked = frame.sort_values(["waiting_per_practice", "waiting_searches"], ascending=False, key=rank)
shown = ranked.rename(columns={c: t(f"analytics.column.{c}") for c in ranked.columns})
for column in (t("analytics.column.waiting_per_practice"), t("analytics.column.median_waiting_days")):
    shown[column] = shown[column].map(lambda v: number(v, 1))
st.dataframe(shown, hide_index=True, width="stretch")
downloads(ranked, name=f"bottlenecks_{dimension or 'region3'}", key="bottlenecks")
