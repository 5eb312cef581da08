"""The analytics pages' shared frame: which build they show, a rebuild for those allowed, reading marts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import clock
from core.errors import NotFound
from dashboards import data, formatting
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
        built = formatting.moment(clock.local(build.built_at)) if build.built_at else "–"
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


def mart(name: str, *, build: Any, user: Any, order_by: str | None = None,
         where: dict[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
    """Read a mart of ``build`` (only the rows matching ``where``); analysts get small cells hidden."""
    from core.warehouse.read import suppress_small_cells

    if where:
        frame = data.warehouse_mart_rows(name, build.build, tuple(where.items()), order_by)
    else:
        frame = data.warehouse_mart(name, build.build, order_by)
    return suppress_small_cells(frame) if user.role == "analyst" else frame.copy()


def mart_part(name: str, *, build: Any, user: Any, where: dict[str, Any], order_by: str | None = None) -> pd.DataFrame:
    """The rows of a mart matching ``where``, small cells hidden as the rule hides them in the whole mart.

    For a mart whose rows all add up to one total (no ``dimension`` column, e.g. mart_time_to_placement),
    the rule's secondary suppression looks at the whole table, so hiding cells in a part alone could hide
    other cells. Analysts therefore get the whole mart suppressed, then the part; everyone else gets only
    the part, filtered in DuckDB (measured on 200,000 searches: 64,000 curve rows read for 730 shown).
    """
    from core.warehouse.read import suppress_small_cells

    if user.role != "analyst":
        return data.warehouse_mart_rows(name, build.build, tuple(where.items()), order_by).copy()
    whole = suppress_small_cells(data.warehouse_mart(name, build.build, order_by))
    keep = pd.Series(True, index=whole.index)
    for column, value in where.items():
        keep &= whole[column] == value
    return whole[keep]


SUPPRESSED_COLOUR = [200, 200, 200, 255]  # a region whose figures are hidden (fewer than 5 patients)
BUBBLE_METRES_PER_SEARCH = 2_500  # radius grows with the square root of the waiting searches
MIN_BUBBLE = 4  # searches: every region's circle is visible; hidden regions all get this size


def bottleneck_map(regions: pd.DataFrame, *, key: str) -> None:
    """Draw waiting searches against accepting practices per 3-digit PLZ region (mart_bottlenecks' rows).

    One circle per region at its postcodes' centre, coloured by its supply band: the region polygons would
    be 2.8 MB of JSON per run (measured 4.3 s of page time on a loaded machine); circles are a few KB.
    Offline like every map (``maps.make_deck``: the shipped outline, no tiles); hidden cells stay hidden:
    a region shown as "< 5" is grey, of a fixed size, and its tooltip says "< 5".
    """
    from core.geo.service import balance_category
    from dashboards.components import maps
    from dashboards.components.figures import number

    centres = data.region_centres()
    rows = regions[regions["value"].isin(centres.index)]
    # look-ups once, not per region: .loc and t() per row cost about 0.1 s CPU on the 600 regions of Germany
    where = dict(zip(centres.index, zip(centres["latitude"], centres["longitude"], strict=True), strict=True))
    band_labels = {band: t(f"analytics.bottleneck.band.{band}") for band in [*maps.BALANCE_COLOURS, "suppressed"]}
    points = []
    for row in rows.itertuples(index=False):
        hidden = isinstance(row.waiting_searches, str)
        waiting = MIN_BUBBLE if hidden else max(MIN_BUBBLE, float(row.waiting_searches))
        supply = 0 if hidden or pd.isna(row.accepting_practices) else int(row.accepting_practices)
        band = "suppressed" if hidden else balance_category(int(row.waiting_searches), supply)
        ratio = row.waiting_per_practice
        latitude, longitude = where[row.value]
        points.append({
            "region": row.value, "latitude": float(latitude), "longitude": float(longitude),
            "radius": BUBBLE_METRES_PER_SEARCH * waiting**0.5,
            "colour": SUPPRESSED_COLOUR if hidden else maps.BALANCE_COLOURS[band],
            "waiting": number(row.waiting_searches), "practices": number(row.accepting_practices),
            "ratio_label": number(ratio, 1) if isinstance(ratio, str) or pd.notna(ratio) else t("analytics.no_supply"),
            "band_label": band_labels[band],
        })  # fmt: skip
    layer = maps.pdk.Layer(
        "ScatterplotLayer", data=points, id="bottleneck-regions", get_position="[longitude, latitude]",
        get_radius="radius", get_fill_color="colour", radius_min_pixels=4, pickable=True, stroked=True,
        get_line_color=[255, 255, 255, 220], line_width_min_pixels=0.5,
    )  # fmt: skip
    deck = maps.make_deck([layer], view=dict(maps.GERMANY_VIEW), tooltip={"html": t("analytics.bottleneck.tooltip")})
    st.pydeck_chart(deck, height=maps.MAP_HEIGHT, key=key)
    bands = [(colour, t(f"analytics.bottleneck.band.{band}")) for band, colour in maps.BALANCE_COLOURS.items()]
    maps.legend([*bands, (SUPPRESSED_COLOUR, t("analytics.bottleneck.band.suppressed"))])
