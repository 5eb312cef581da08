"""Erfolgsquote: placement within 30 / 60 / 90 days by start cohort, and the time to placement (Kaplan-Meier)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.components import dimension_choice, warehouse
from dashboards.components.figures import downloads, number
from dashboards.components.login import require_user
from dashboards.i18n import t

STRATA = ["all", "region2", "procedure", "age_band"]

user = require_user()
st.title(t("analytics.success.title"))
build = warehouse.show_build(user=user, key="success")
if build is None:
    st.stop()

st.subheader(t("analytics.cohorts"))
rates = warehouse.mart("mart_placement_rates", build=build, user=user, order_by="cohort_month")
long = rates.melt(id_vars="cohort_month", value_vars=["rate_30", "rate_60", "rate_90"], var_name="horizon")
long = long[long["value"].map(lambda v: not isinstance(v, str))].dropna()
long["horizon"] = long["horizon"].map(lambda h: t("analytics.days", days=h.removeprefix("rate_")))
chart = (
    alt.Chart(long)
    .mark_line(point=True)
    .encode(
        x=alt.X("cohort_month:T", title=t("analytics.cohort_month"), axis=alt.Axis(format="%m.%Y", tickCount="month")),
        y=alt.Y("value:Q", title=t("analytics.rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("horizon:N", title=t("analytics.horizon")),
    )
)
st.altair_chart(chart, width="stretch")
downloads(rates, name="placement_rates", key="rates")

st.subheader(t("analytics.survival"), help=t("analytics.survival_help"))
kind = dimension_choice.show(label="analytics.stratum_kind", options=STRATA, default="all", names="analytics.stratum",
                             key="kind")  # fmt: skip
curve = warehouse.mart_part(
    "mart_time_to_placement", build=build, user=user, where={"stratum_kind": kind}, order_by="stratum, day"
)
curve = curve[curve["survival"].map(lambda v: not isinstance(v, str))].copy()
curve["stratum"] = curve["stratum"].replace({"all": t("analytics.stratum.all")})
survival = (
    alt.Chart(curve)
    .mark_line(interpolate="step-after")
    .encode(
        x=alt.X("day:Q", title=t("analytics.day")),
        y=alt.Y("survival:Q", title=t("analytics.still_waiting"), axis=alt.Axis(format="%")),
        color=alt.Color("stratum:N", title=t(f"analytics.stratum.{kind}")),
    )
)
st.altair_chart(survival, width="stretch")
summary = warehouse.mart("mart_time_to_placement_summary", build=build, user=user)
overall = summary[summary["stratum_kind"] == "all"]
if not overall.empty:
    row = overall.iloc[0]
    keys = ("median_days", "q25_days", "q75_days")
    shown = {k: t("analytics.not_reached") if pd.isna(row[k]) else number(row[k]) for k in keys}
    st.markdown(t("analytics.median", median=shown["median_days"], q25=shown["q25_days"], q75=shown["q75_days"]))
