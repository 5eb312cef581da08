"""Überblick: the key figures of the last 28 days against the 28 before, with week-by-week trend lines."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.components import warehouse
from dashboards.components.figures import number, percent
from dashboards.components.login import require_user
from dashboards.i18n import t

RATES = {"offer_rate", "placement_rate_90"}
TREND_OF = {"new_searches": "new_searches", "placements": "placements", "items_sent": "items_sent"}
LOWER_IS_BETTER = {"median_days_to_placement"}

user = require_user()
st.title(t("analytics.overview.title"))
build = warehouse.show_build(user=user, key="overview")
if build is None:
    st.stop()

kpis = warehouse.mart("mart_kpis", build=build, user=user, order_by="kpi_order")
trends = warehouse.mart("mart_weekly_trends", build=build, user=user, order_by="week_start")
recent = {kpi: [v for v in trends[column].tail(12) if not isinstance(v, str)] for kpi, column in TREND_OF.items()}
columns = st.columns(3)
for index, row in enumerate(kpis.itertuples()):
    decimals = 1 if row.kpi in LOWER_IS_BETTER else 0
    show = percent if row.kpi in RATES else (lambda v, decimals=decimals: number(v, decimals))
    change = None if isinstance(row.change, str) or pd.isna(row.change) else row.change
    columns[index % 3].metric(
        t(f"analytics.kpi.{row.kpi}"),
        show(row.current_value),
        delta=None if change is None else show(change) if row.kpi not in RATES else percent(change, 1),
        delta_color="inverse" if row.kpi in LOWER_IS_BETTER else "normal",
        help=t("analytics.previous", value=show(row.previous_value)),
        chart_data=[v for v in trends[TREND_OF[row.kpi]].tail(12) if not isinstance(v, str)]
        if row.kpi in TREND_OF
        else None,
        border=True,
    )

st.subheader(t("analytics.trends"))
series = ["new_searches", "placements", "items_sent", "offers"]
long = trends.melt(id_vars="week_start", value_vars=series, var_name="series", value_name="value")
long["series"] = long["series"].map(lambda s: t(f"analytics.series.{s}"))
chart = (
    alt.Chart(long)
    .mark_line(point=True)
    .encode(
        x=alt.X("week_start:T", title=t("analytics.week")),
        y=alt.Y("value:Q", title=t("analytics.value")),
        color=alt.Color("series:N", title=t("analytics.series")),
        tooltip=[alt.Tooltip(f) for f in ("week_start:T", "series:N", "value:Q")],  # objects: no schema lookup
    )
)
st.altair_chart(chart, width="stretch")
