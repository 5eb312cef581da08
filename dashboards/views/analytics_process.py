"""Prozess: the funnel from proposal to therapy, the time each step takes, and the effort per placement."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.components import warehouse
from dashboards.components.figures import downloads, number, percent
from dashboards.components.login import require_user
from dashboards.i18n import t

user = require_user()
st.title(t("analytics.process.title"))
build = warehouse.show_build(user=user, key="process")
if build is None:
    st.stop()

st.subheader(t("analytics.funnel"))
funnel = warehouse.mart("mart_funnel", build=build, user=user, order_by="step_order")
funnel["label"] = funnel["step"].map(lambda s: t(f"analytics.step.{s}"))
numeric = funnel[funnel["items"].map(lambda v: not isinstance(v, str))]
chart = (
    alt.Chart(numeric)
    .mark_bar()
    .encode(
        y=alt.Y("label:N", sort=list(numeric["label"]), title=t("analytics.step"), axis=alt.Axis(labelLimit=240)),
        x=alt.X("items:Q", title=t("analytics.items")),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("items:Q")],
    )
)
st.altair_chart(chart, width="stretch")
table = pd.DataFrame(
    {
        t("analytics.step"): funnel["label"],
        t("analytics.items"): funnel["items"].map(number),
        t("analytics.conversion"): funnel["conversion"].map(percent),
        t("analytics.median_days"): funnel["median_days"].map(lambda v: number(v, 1)),
    }
)
st.table(table.set_index(t("analytics.step")))
downloads(funnel.drop(columns="label"), name="funnel", key="funnel")

st.subheader(t("analytics.effort"))
effort = warehouse.mart("mart_contacts_per_placement", build=build, user=user, order_by="month")
st.dataframe(effort, hide_index=True, width="stretch")
