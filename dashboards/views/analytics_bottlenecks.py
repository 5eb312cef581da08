"""Engpässe: where waiting searches outnumber the practices that take patients, ranked."""

from __future__ import annotations

import streamlit as st

from dashboards.components import dimension_choice, warehouse
from dashboards.components.figures import downloads, number, rank
from dashboards.components.login import require_user
from dashboards.i18n import t

DIMENSIONS = ["region3", "procedure", "age_band", "language"]

user = require_user()
st.title(t("analytics.bottlenecks.title"))
build = warehouse.show_build(user=user, key="bottlenecks")
if build is None:
    st.stop()

dimension = dimension_choice.show(label="analytics.bottleneck.dimension", options=DIMENSIONS, default="region3",
                                  names="analytics.bottleneck", key="dimension")  # fmt: skip
frame = warehouse.mart("mart_bottlenecks", build=build, user=user)
frame = frame[frame["dimension"] == dimension].drop(columns="dimension")
# no accepting practice at all where patients wait is the worst bottleneck: it ranks first
no_supply = frame["accepting_practices"].map(lambda v: not isinstance(v, str) and v == 0)
ranked = frame.assign(_order=rank(frame["waiting_per_practice"]).where(~no_supply, float("inf")))
ranked = ranked.sort_values(["_order", "waiting_searches"], ascending=False, key=rank).drop(columns="_order")
shown = ranked.copy()
if dimension == "region3":
    shown["value"] = shown["value"].map(lambda v: f"{v}xx")
ratios = zip(shown["waiting_per_practice"], no_supply[shown.index], strict=True)
shown["waiting_per_practice"] = [t("analytics.no_supply") if empty else number(v, 1) for v, empty in ratios]
shown["median_waiting_days"] = shown["median_waiting_days"].map(lambda v: number(v, 0))
names = {c: t(f"analytics.column.{c}") for c in shown.columns} | {"value": t(f"analytics.bottleneck.{dimension}")}
if dimension == "region3":
    warehouse.bottleneck_map(frame, key="bottleneck_map")
st.dataframe(shown.rename(columns=names), hide_index=True, width="stretch")
downloads(ranked, name=f"bottlenecks_{dimension}", key="bottlenecks")
