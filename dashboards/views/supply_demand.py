"""Supply and demand by 3-digit PLZ region: active searches vs therapists accepting patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.geo.service import region_features
from dashboards import data
from dashboards.components import maps
from dashboards.components.login import require_user
from dashboards.i18n import t

TOP_REGIONS = 15  # the table lists the regions where supply is shortest

user = require_user()
st.title(t("geo.supply.title"))
st.caption(t("geo.supply.intro"))
result = data.supply_demand()
frame: pd.DataFrame = result["frame"]

searches, therapists = int(frame["searches"].sum()), int(frame["therapists"].sum())
if searches == 0 and therapists == 0:
    st.info(t("geo.supply.empty"))
    st.stop()

short = int(frame["balance"].isin(["short", "no_supply"]).sum())
cols = st.columns(3)
cols[0].metric(t("geo.supply.searches"), f"{searches:,}".replace(",", "."))
cols[1].metric(t("geo.supply.therapists"), f"{therapists:,}".replace(",", "."))
cols[2].metric(t("geo.supply.short_regions"), f"{short:,}".replace(",", "."))

maps.region_map(region_features(frame), key="supply_demand_chart")
maps.balance_legend()
if result["searches_without_region"] or result["therapists_without_region"]:
    st.caption(t("geo.supply.without_region", searches=result["searches_without_region"],
                 therapists=result["therapists_without_region"]))  # fmt: skip

st.subheader(t("geo.supply.top"))
demand = frame[frame["searches"] > 0].sort_values(["searches_per_therapist", "searches"], ascending=False)
top = demand.head(TOP_REGIONS)
ratio = [("–" if not np.isfinite(r) else f"{r:.1f}".replace(".", ",")) for r in top["searches_per_therapist"]]
st.table(
    pd.DataFrame(
        {
            t("geo.column.region"): [f"{region}xx" for region in top.index],
            t("geo.column.place"): top["place"],
            t("geo.column.searches"): top["searches"],
            t("geo.column.therapists"): top["therapists"],
            t("geo.column.ratio"): ratio,
            t("geo.column.balance"): [t(f"geo.balance.{b}") for b in top["balance"]],
        }
    ).set_index(t("geo.column.region"))
)
