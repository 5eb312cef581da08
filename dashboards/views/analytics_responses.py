"""Antwortverhalten: how often practices, regions and procedures answer and offer a place; score calibration."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards.components import dimension_choice, warehouse
from dashboards.components.figures import downloads, percent, rank
from dashboards.components.login import require_user
from dashboards.i18n import t

DIMENSIONS = ["practice", "region3", "procedure"]
SHOWN = ["label", "items", "response_rate", "acceptance_rate"]

user = require_user()
st.title(t("analytics.responses.title"))
build = warehouse.show_build(user=user, key="responses")
if build is None:
    st.stop()

dimension = dimension_choice.show(label="analytics.response.dimension", options=DIMENSIONS, default="region3",
                                  names="analytics.response", key="dimension")  # fmt: skip
frame = warehouse.mart("mart_response_rates", build=build, user=user, where={"dimension": dimension},
                       order_by="items desc, value")  # fmt: skip
frame = frame.sort_values("items", key=rank, ascending=False, kind="stable")  # hidden counts ("< 5") last
table = frame[SHOWN].rename(columns={c: t(f"analytics.column.{c}") for c in SHOWN})
for column in ("response_rate", "acceptance_rate"):
    table[t(f"analytics.column.{column}")] = frame[column].map(percent)
st.dataframe(table, hide_index=True, width="stretch")
downloads(frame.drop(columns="dimension"), name=f"responses_{dimension}", key="responses")

st.subheader(t("analytics.calibration"))
calibration = warehouse.mart("mart_calibration", build=build, user=user, order_by="decile")
numeric = calibration[calibration["items"].map(lambda v: not isinstance(v, str))]
long = numeric.melt(id_vars="decile", value_vars=["predicted_offer_rate", "observed_offer_rate"], var_name="what")
names = {"predicted_offer_rate": t("analytics.predicted"), "observed_offer_rate": t("analytics.observed")}
long["what"] = long["what"].map(names)
chart = (
    alt.Chart(long)
    .mark_line(point=True)
    .encode(
        x=alt.X("decile:O", title=t("analytics.decile")),
        y=alt.Y("value:Q", title=t("analytics.rate"), axis=alt.Axis(format="%")),
        color=alt.Color("what:N", title=""),
    )
)
st.altair_chart(chart, width="stretch")
