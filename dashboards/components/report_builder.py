"""The custom report builder: a form over the whitelists of core.warehouse.reports, and its chart and table."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from core.warehouse.read import SUPPRESSED, suppress_small_cells
from core.warehouse.reports import DIMENSIONS, METRICS, ReportDefinition
from dashboards import data
from dashboards.components.figures import day, downloads, number, percent
from dashboards.i18n import current_language, t

FILTERS = ("region2", "procedure", "age_band", "gender", "insurance_type")  # few values each: a pick list fits


def _keys(key: str) -> dict[str, str]:
    return {
        "metric": f"{key}_metric",
        "dimensions": f"{key}_dimensions",
        "from": f"{key}_from",
        "to": f"{key}_to",
        **{f"filter_{d}": f"{key}_filter_{d}" for d in FILTERS},
    }


def load(definition: ReportDefinition, *, key: str) -> None:
    """Put a definition into the form (call before the form is drawn, e.g. from a callback)."""
    keys = _keys(key)
    st.session_state[keys["metric"]] = definition.metric
    st.session_state[keys["dimensions"]] = list(definition.dimensions)
    st.session_state[keys["from"]] = definition.date_from
    st.session_state[keys["to"]] = definition.date_to
    for dimension in FILTERS:
        st.session_state[keys[f"filter_{dimension}"]] = list(definition.filters.get(dimension, ()))


def show(*, build: Any, key: str) -> tuple[ReportDefinition, bool]:
    """Draw the builder form; return the definition it holds and whether it was just submitted."""
    keys = _keys(key)
    if keys["metric"] not in st.session_state:
        load(ReportDefinition(metric="placements", dimensions=("month",)), key=key)
    with st.form(f"{key}_form"):
        left, right = st.columns(2)
        metric = left.selectbox(
            t("reports.metric"), list(METRICS), format_func=lambda m: t(f"reports.metric.{m}"), key=keys["metric"]
        )
        dimensions = right.multiselect(
            t("reports.dimensions"),
            list(DIMENSIONS),
            max_selections=2,
            format_func=lambda d: t(f"reports.dimension.{d}"),
            placeholder=t("select.placeholder"),
            key=keys["dimensions"],
        )
        with st.expander(t("reports.filters")):
            columns = st.columns(len(FILTERS))
            choices = data.report_filter_values(FILTERS, build.build)
            filters = {
                dimension: tuple(
                    column.multiselect(
                        t(f"reports.dimension.{dimension}"),
                        choices[dimension],
                        format_func=lambda v, d=dimension: _value(v, d),
                        placeholder=t("select.placeholder"),
                        key=keys[f"filter_{dimension}"],
                    )
                )
                for column, dimension in zip(columns, FILTERS, strict=True)
            }
        left, right = st.columns(2)
        date_from = left.date_input(
            t("reports.date_from"), key=keys["from"], format="DD.MM.YYYY", help=t("reports.period_help")
        )
        date_to = right.date_input(t("reports.date_to"), key=keys["to"], format="DD.MM.YYYY")
        submitted = st.form_submit_button(t("reports.run"), icon=":material/query_stats:", type="primary")
    definition = ReportDefinition(
        metric=metric,
        dimensions=tuple(dimensions),
        filters={d: values for d, values in filters.items() if values},
        date_from=date_from,
        date_to=date_to,
    )
    return definition, submitted


AXIS_FORMAT = {"month": "%m.%Y", "week": "%d.%m.%Y"}  # German dates on the time axis, as on the other pages


VALUE_TEXTS = {"gender": "gender", "insurance_type": "insurance"}  # warehouse codes with UI texts


def _value(value: Any, dimension: str) -> str:
    prefix = VALUE_TEXTS.get(dimension)
    key = f"{prefix}.{value}"
    return t(key) if prefix and t(key) != key else str(value)


def _label(value: Any, dimension: str) -> str:
    if dimension == "month":
        return day(value)[3:] if current_language() == "de" else day(value)[:7]
    if DIMENSIONS[dimension].temporal:
        return day(value)
    return _value(value, dimension)


def _figure(value: Any, kind: str) -> str:
    if kind == "rate":
        return percent(value, 1)
    return number(value, 1 if kind == "days" else 0)


def result(definition: ReportDefinition, *, build: Any, user: Any, name: str, key: str) -> None:
    """Run the report and show its chart, table and downloads; analysts see "< 5" for small cells."""
    import json

    frame = data.report_frame(json.dumps(definition.to_json(), sort_keys=True), build.build)
    if frame.empty:
        st.info(t("reports.no_rows"))
        return
    metric = METRICS[definition.metric]
    # every dimension's rows add up to a total the analyst can ask for: protect each line (and the grand total)
    lines = [[d for d in definition.dimensions if d != dimension] for dimension in definition.dimensions] or [[]]
    shown = suppress_small_cells(frame, lines=[*lines, []]) if user.role == "analyst" else frame.copy()
    hidden = int((shown["searches"] == SUPPRESSED).sum())
    metric_label = t(f"reports.metric.{metric.key}")
    if not definition.dimensions:
        st.metric(metric_label, _figure(shown["value"].iloc[0], metric.kind))
    else:
        plotted = shown[shown["searches"] != SUPPRESSED].copy()
        for dimension in definition.dimensions:
            if not DIMENSIONS[dimension].temporal:
                plotted[dimension] = plotted[dimension].map(lambda v, d=dimension: _value(v, d))
        _chart(plotted, definition, metric_label, metric.kind)
    if hidden:
        st.caption(t("reports.hidden_rows", count=hidden))
    names = {d: t(f"reports.dimension.{d}") for d in definition.dimensions}
    names |= {"value": metric_label, "searches": t("reports.column.searches")}
    table = shown.rename(columns=names)
    for dimension in definition.dimensions:
        table[names[dimension]] = shown[dimension].map(lambda v, d=dimension: _label(v, d))
    table[metric_label] = shown["value"].map(lambda v: _figure(v, metric.kind))
    table[names["searches"]] = shown["searches"].map(number)
    st.dataframe(table, hide_index=True, width="stretch")
    downloads(shown.rename(columns=names), name=name, key=key)


def _chart(frame: pd.DataFrame, definition: ReportDefinition, metric_label: str, kind: str) -> None:
    if frame.empty:
        return
    first = definition.dimensions[0]
    plotted = frame.assign(value=pd.to_numeric(frame["value"]))
    temporal = DIMENSIONS[first].temporal
    x = (
        alt.X(
            f"{first}:T",
            title=t(f"reports.dimension.{first}"),
            axis=alt.Axis(format=AXIS_FORMAT[first], tickCount="month" if first == "month" else "week"),
        )
        if temporal
        else alt.X(f"{first}:N", title=t(f"reports.dimension.{first}"), sort="-y")
    )
    y = alt.Y("value:Q", title=metric_label, axis=alt.Axis(format="%") if kind == "rate" else alt.Axis())
    # channel objects, not strings: altair looks a string up in its whole schema (20-90 ms CPU per chart)
    tooltip = [alt.Tooltip(field) for field in (*definition.dimensions, "value", "searches")]
    encoding: dict[str, Any] = {"x": x, "y": y, "tooltip": tooltip}
    if len(definition.dimensions) == 2:
        second = definition.dimensions[1]
        encoding["color"] = alt.Color(f"{second}:N", title=t(f"reports.dimension.{second}"))
        if not temporal:
            encoding["xOffset"] = alt.XOffset(f"{second}:N")
    base = alt.Chart(plotted)
    chart = base.mark_line(point=True) if temporal else base.mark_bar()
    st.altair_chart(chart.encode(**encoding), width="stretch")
