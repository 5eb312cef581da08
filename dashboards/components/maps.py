"""Maps drawn with pydeck that work offline: a Germany outline instead of basemap tiles by default.

Nothing is requested from the internet unless MAP_STYLE_URL names an online basemap style. Every map
shows the shipped Germany outline (``core.geo.outline``) so it stays readable without tiles.

Example (patient detail page):
    patient_map(patient_latlon=(52.52, 13.40), radius_km=15, therapists_df=frame, key="patient_map")
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from core.config import get_settings
from core.geo.distance import distance_check, location_missing
from core.geo.outline import city_labels, outline_geojson, regions_near
from core.geo.service import ACCEPTING, TherapistMapFilter
from core.therapists.models import AgeGroup, Procedure, Setting, TherapistStatus
from dashboards.i18n import nt, t

GERMANY_VIEW = {"latitude": 51.2, "longitude": 10.4, "zoom": 5.0}
MAP_HEIGHT = 620  # px: Germany from Flensburg to the Alps at zoom 5
MAX_FIT_ZOOM = 10.0  # a single therapist: show about 40 km around, with the city's name in view
LABEL_COUNTRY_SPACING_KM = 90.0  # at country scale, cities at least this far apart (labels about 80 px wide)
LABEL_DETAIL_ZOOM = 6.5  # from here on every labelled city fits without overlapping
OUTLINE_FILL = [236, 239, 243, 255]
OUTLINE_LINE = [120, 130, 145, 255]
# colour-blind safe pairs (blue/orange), plus grey for "unknown"
PASS_COLOUR = [26, 133, 255, 220]
FAIL_COLOUR = [230, 97, 0, 200]
UNKNOWN_COLOUR = [140, 140, 140, 200]
PATIENT_COLOUR = [120, 28, 129, 255]
ACCEPTING_COLOURS = {"yes": PASS_COLOUR, "no": FAIL_COLOUR, "unknown": UNKNOWN_COLOUR}
# distance bands relative to the search radius: within half, within the radius, beyond
BAND_COLOURS = {"near": [0, 90, 181, 230], "inside": [26, 133, 255, 200], "outside": [170, 170, 170, 160]}
BALANCE_COLOURS = {
    "no_demand": [225, 228, 232, 255],
    "balanced": [161, 217, 155, 255],
    "tight": [253, 208, 162, 255],
    "short": [241, 105, 19, 255],
    "no_supply": [166, 54, 3, 255],
}
LANGUAGES = ["de", "en", "tr", "ar", "ru", "pl", "uk", "fa", "fr", "es", "it"]


def outline_layer() -> pdk.Layer:
    """The shipped Germany outline, drawn under everything else."""
    return pdk.Layer(
        "GeoJsonLayer", data=outline_geojson(), id="germany-outline", stroked=True, filled=True,
        get_fill_color=OUTLINE_FILL, get_line_color=OUTLINE_LINE, line_width_min_pixels=1, pickable=False,
    )  # fmt: skip


def region_lines_layer(view: dict) -> pdk.Layer:
    """Faint borders of the 3-digit PLZ regions: orientation when zoomed in to a city, where the outline is far.

    Only the regions around the view go into the deck: all of them are 2.8 MB of JSON per page render
    (measured 84 ms to serialise) for the few borders a zoomed-in map shows.
    """
    # the visible window halves with every zoom level; this margin still leaves room for panning
    lat_span = 360.0 / 2 ** view["zoom"]
    data = regions_near(view["latitude"], view["longitude"], lat_span=lat_span, lon_span=lat_span * 2)
    return pdk.Layer(
        "GeoJsonLayer", data=data, id="plz-region-lines", stroked=True, filled=False,
        get_line_color=[190, 198, 208, 255], line_width_min_pixels=1, pickable=False,
    )  # fmt: skip


def labels_layer(zoom: float) -> pdk.Layer:
    """Names of the big cities for orientation (only the biggest at country scale, so they do not overlap).

    pydeck sends unquoted strings as expressions; quoted ones ("'sans-serif'") arrive as plain strings.
    The character set lists the umlauts, which deck.gl's default (ASCII) set lacks.
    """
    cities = city_labels(LABEL_COUNTRY_SPACING_KM) if zoom < LABEL_DETAIL_ZOOM else city_labels()
    return pdk.Layer(
        "TextLayer", data=cities, id="city-labels", get_position="[longitude, latitude]", get_text="name",
        get_size=13, get_color=[70, 78, 90, 255], get_alignment_baseline="'bottom'", get_pixel_offset=[0, -3],
        font_family="'sans-serif'", character_set=f"'{''.join(sorted({ch for c in cities for ch in c['name']}))}'",
        font_settings={"sdf": True}, outline_width=3, outline_color=[255, 255, 255, 230], pickable=False,
    )  # fmt: skip


def make_deck(layers: list[pdk.Layer], *, view: dict, tooltip: dict | None) -> pdk.Deck:
    """Return a deck over the outline, with city names on top; with MAP_STYLE_URL the online basemap lies under it."""
    style = get_settings().map_style_url
    if style:
        return pdk.Deck(layers=layers, initial_view_state=pdk.ViewState(**view), map_provider="carto",
                        map_style=style, tooltip=tooltip)  # fmt: skip
    # map_provider=None: no basemap at all, so no request leaves the machine; the outline is the map
    base = [outline_layer(), region_lines_layer(view)] if view["zoom"] >= LABEL_DETAIL_ZOOM else [outline_layer()]
    layers = [*base, *layers, labels_layer(view["zoom"])]
    return pdk.Deck(layers=layers, initial_view_state=pdk.ViewState(**view), map_provider=None, tooltip=tooltip)


def view_for(latitudes: pd.Series, longitudes: pd.Series) -> dict:
    """Return a view (centre and zoom) that shows every point, at most Germany-wide."""
    if latitudes.empty:
        return dict(GERMANY_VIEW)
    south, north = float(latitudes.min()), float(latitudes.max())
    west, east = float(longitudes.min()), float(longitudes.max())
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)), 0.05)
    zoom = min(MAX_FIT_ZOOM, max(GERMANY_VIEW["zoom"], math.log2(360.0 / span) - 0.6))
    return {"latitude": (north + south) / 2, "longitude": (west + east) / 2, "zoom": zoom}


def zoom_for_radius(latitude: float, radius_km: float, height_px: int = MAP_HEIGHT) -> float:
    """Return the zoom at which a circle of ``radius_km`` fills about 80 % of the map's height."""
    metres_per_pixel = radius_km * 1000 * 1.25 / (height_px / 2)
    # deck.gl's zoom 0 shows the equator's 40,075 km on 512 pixels: 78,271.5 m per pixel, halved per zoom level
    return float(np.clip(math.log2(78_271.52 * math.cos(math.radians(latitude)) / metres_per_pixel), 4, 15))


def therapist_filters(*, key: str) -> TherapistMapFilter:
    """Show the therapist list's filters in one row; return the chosen filter (pre-set from ?plz=...)."""
    cols = st.columns(7)
    procedure = _choice(cols[0], "procedure", [p.value for p in Procedure], key=f"{key}_proc")
    setting = _choice(cols[1], "setting", [s.value for s in Setting], key=f"{key}_setting")
    age_group = _choice(cols[2], "age_group", [a.value for a in AgeGroup], key=f"{key}_age")
    language = _choice(cols[3], "language", LANGUAGES, key=f"{key}_lang", labels="lang")
    status = _choice(cols[4], "status", [s.value for s in TherapistStatus], key=f"{key}_status", any_last=True)
    accepting = _choice(cols[5], "accepting", list(ACCEPTING), key=f"{key}_accepting")
    if f"{key}_plz" not in st.session_state:
        st.session_state[f"{key}_plz"] = st.query_params.get("plz", "")
    plz = cols[6].text_input(t("geo.filter.plz_prefix"), key=f"{key}_plz", placeholder=t("geo.filter.plz_hint"))
    if plz.strip():
        st.query_params["plz"] = plz.strip()
    else:
        st.query_params.pop("plz", None)
    return TherapistMapFilter(procedure=procedure, setting=setting, age_group=age_group, language=language,
                              status=status, accepting=accepting, plz_prefix=plz.strip() or None)  # fmt: skip


def _choice(column, name: str, options: list[str], *, key: str, labels: str = "", any_last: bool = False) -> str | None:
    """A selectbox of ``options`` plus "any" (first, or last when the first option is the usual choice)."""
    any_ = "__any__"
    choices = [*options, any_] if any_last else [any_, *options]

    def label(value: str) -> str:
        return t("geo.any") if value == any_ else t(f"geo.{labels or name}.{value}")

    value = column.selectbox(t(f"geo.filter.{name}"), choices, key=key, format_func=label)
    return None if value == any_ else value


def therapist_map(frame: pd.DataFrame, *, key: str) -> None:
    """Draw therapists (rows with coordinates) coloured by whether they accept patients; hover for details."""
    points = frame.assign(
        colour=[ACCEPTING_COLOURS[a] for a in frame["accepting"]],
        accepting_label=[t(f"geo.accepting.{a}") for a in frame["accepting"]],
        precision_label=[t(f"geo.precision.{p}") for p in frame["precision"]],
    )
    layer = pdk.Layer(
        "ScatterplotLayer", data=points, id="therapists", get_position="[longitude, latitude]",
        get_fill_color="colour", get_radius=120, radius_min_pixels=4, radius_max_pixels=12, pickable=True,
        stroked=True, get_line_color=[255, 255, 255, 200], line_width_min_pixels=0.5,
    )  # fmt: skip
    tooltip = {"html": "<b>{name}</b><br/>{postcode} {city}<br/>{procedures}<br/>{accepting_label}<br/>"
                       "<small>{precision_label}</small>"}  # fmt: skip
    deck = make_deck([layer], view=view_for(points["latitude"], points["longitude"]), tooltip=tooltip)
    st.pydeck_chart(deck, height=MAP_HEIGHT, key=key)


def region_map(features: dict, *, key: str) -> None:
    """Draw the 3-digit PLZ regions coloured by their supply/demand band; hover for the numbers."""
    for feature in features["features"]:
        props = feature["properties"]
        band = props.get("balance", "no_demand")
        props["colour"] = BALANCE_COLOURS[band]
        props["balance_label"] = t(f"geo.balance.{band}")
        ratio = props.get("searches_per_therapist")
        props["ratio_label"] = "–" if ratio is None else f"{ratio:.1f}".replace(".", ",")
    layer = pdk.Layer(
        "GeoJsonLayer", data=features, id="regions", stroked=True, filled=True, pickable=True,
        get_fill_color="properties.colour", get_line_color=[255, 255, 255, 255], line_width_min_pixels=0.5,
    )  # fmt: skip
    tooltip = {"html": t("geo.supply.tooltip")}
    st.pydeck_chart(make_deck([layer], view=dict(GERMANY_VIEW), tooltip=tooltip), height=MAP_HEIGHT, key=key)


def legend(items: list[tuple[list[int], str]]) -> None:
    """Show a one-line legend of colour squares (the exact map colours) and their labels."""
    chips = " &nbsp; ".join(
        f'<span style="color: rgb({r}, {g}, {b}); font-size: 1.2em;">&#9632;</span> {html.escape(label)}'
        for (r, g, b, *_), label in items
    )
    st.markdown(f"{html.escape(t('geo.legend'))} {chips}", unsafe_allow_html=True)


def accepting_legend() -> None:
    legend([(ACCEPTING_COLOURS[a], t(f"geo.accepting.{a}")) for a in ACCEPTING])


def balance_legend() -> None:
    legend([(colour, t(f"geo.legend.{band}")) for band, colour in BALANCE_COLOURS.items()])


def _distance_label(km: float) -> str:
    return t("geo.distance.unknown") if not np.isfinite(km) else f"{km:.1f} km".replace(".", ",")


def patient_map(
    *, patient_latlon: tuple[float | None, float | None] | None, radius_km: float, therapists_df: pd.DataFrame, key: str
) -> None:
    """Show the patient, the search radius and nearby therapists.

    ``therapists_df`` needs ``latitude``, ``longitude`` and ``name``. With a boolean ``passes`` column
    (and optionally ``reasons``, a text per row) therapists are coloured by whether they pass the patient's
    filters; without it, by distance band (within half the radius, within the radius, beyond). Therapists
    without location are left off the map and counted; a patient without location gets a warning and no
    map, never a distance of 0 km.
    """
    if patient_latlon is None or bool(location_missing(patient_latlon[0], patient_latlon[1])):
        st.warning(t("geo.location_missing.patient"))
        return
    frame = therapists_df.reset_index(drop=True)
    lat = frame["latitude"].to_numpy(dtype=float) if "latitude" in frame else np.empty(0)
    lon = frame["longitude"].to_numpy(dtype=float) if "longitude" in frame else np.empty(0)
    check = distance_check(patient_latlon, lat, lon, max_km=radius_km)
    frame = frame.assign(distance_km=check.km)
    shown = frame[~check.location_missing].copy()
    if "passes" in shown:
        shown["colour"] = [PASS_COLOUR if p else FAIL_COLOUR for p in shown["passes"]]
        shown["status_label"] = [t(f"geo.patient_map.{'passes' if p else 'fails'}") for p in shown["passes"]]
    else:
        band = np.where(shown["distance_km"] <= radius_km / 2, "near",
                        np.where(shown["distance_km"] <= radius_km, "inside", "outside"))  # fmt: skip
        shown["colour"] = [BAND_COLOURS[b] for b in band]
        shown["status_label"] = [t(f"geo.band.{b}") for b in band]
    shown["reasons"] = shown["reasons"].fillna("") if "reasons" in shown else ""
    shown["distance_label"] = [_distance_label(km) for km in shown["distance_km"]]
    centre = {"latitude": float(patient_latlon[0]), "longitude": float(patient_latlon[1])}
    layers = [
        pdk.Layer("ScatterplotLayer", data=[centre], id="radius", get_position="[longitude, latitude]",
                  get_radius=float(radius_km) * 1000, get_fill_color=[26, 133, 255, 28],  # metres: the default unit
                  stroked=True, get_line_color=[26, 133, 255, 180], line_width_min_pixels=1.5, pickable=False),
        pdk.Layer("ScatterplotLayer", data=shown, id="therapists", get_position="[longitude, latitude]",
                  get_fill_color="colour", get_radius=80, radius_min_pixels=4, radius_max_pixels=10, pickable=True,
                  stroked=True, get_line_color=[255, 255, 255, 220], line_width_min_pixels=0.5),
        pdk.Layer("ScatterplotLayer", data=[{**centre, "name": t("geo.patient_map.patient"), "distance_label": "",
                                             "status_label": "", "reasons": ""}],
                  id="patient", get_position="[longitude, latitude]", get_fill_color=PATIENT_COLOUR, get_radius=100,
                  radius_min_pixels=7, pickable=True, stroked=True, get_line_color=[255, 255, 255, 255],
                  line_width_min_pixels=2),
    ]  # fmt: skip
    view = {**centre, "zoom": zoom_for_radius(centre["latitude"], float(radius_km))}
    tooltip = {"html": "<b>{name}</b><br/>{distance_label}<br/>{status_label}<br/>{reasons}"}
    st.pydeck_chart(make_deck(layers, view=view, tooltip=tooltip), height=MAP_HEIGHT, key=key)
    if "passes" in shown:
        legend([(PASS_COLOUR, t("geo.patient_map.passes")), (FAIL_COLOUR, t("geo.patient_map.fails")),
                (PATIENT_COLOUR, t("geo.patient_map.patient"))])  # fmt: skip
    else:
        legend([*[(BAND_COLOURS[b], t(f"geo.band.{b}")) for b in BAND_COLOURS],
                (PATIENT_COLOUR, t("geo.patient_map.patient"))])  # fmt: skip
    missing = int(check.location_missing.sum())
    if missing:
        st.caption(nt("geo.location_missing.therapists", missing))
