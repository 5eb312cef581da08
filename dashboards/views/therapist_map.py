"""Therapist map: practice locations with the therapist list's filters; missing locations are listed."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.errors import ValidationError
from dashboards import data
from dashboards.components import maps
from dashboards.components.login import require_user
from dashboards.i18n import nt, say, t

user = require_user()
st.title(t("geo.therapist_map.title"))
st.caption(t("geo.therapist_map.intro"))
filters = maps.therapist_filters(key="therapist_map")
try:
    frame = data.therapist_locations(dataclasses.astuple(filters))
except ValidationError as error:
    st.error(say(error))
    st.stop()

if frame.empty:
    st.info(t("geo.therapist_map.empty"))
    st.stop()

located = frame[frame["latitude"].notna() & frame["longitude"].notna()]
missing = frame[frame["latitude"].isna() | frame["longitude"].isna()]
cols = st.columns(3)
cols[0].metric(t("geo.therapist_map.matching"), f"{len(frame):,}".replace(",", "."))
cols[1].metric(t("geo.therapist_map.shown"), f"{len(located):,}".replace(",", "."))
cols[2].metric(t("geo.therapist_map.missing"), f"{len(missing):,}".replace(",", "."))

maps.therapist_map(located, key="therapist_map_chart")
maps.accepting_legend()


def table(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("geo.column.name"): rows["name"],
            t("geo.column.postcode"): rows["postcode"],
            t("geo.column.city"): rows["city"],
            t("geo.column.procedures"): rows["procedures"],
            t("geo.column.accepting"): [t(f"geo.accepting.{a}") for a in rows["accepting"]],
            t("geo.column.precision"): [t(f"geo.precision.{p}") for p in rows["precision"]],
        }
    )


if not missing.empty:
    st.warning(nt("geo.location_missing.therapists", len(missing)))
    with st.expander(t("geo.therapist_map.missing_list", count=len(missing))):
        st.caption(t("geo.reason.location_missing"))
        st.dataframe(table(missing), hide_index=True, width="stretch")
with st.expander(t("geo.therapist_map.list")):
    st.dataframe(table(located), hide_index=True, width="stretch")
