"""Custom reports: one metric over a fact mart, up to two dimensions, filters and a period, from whitelists only.

A report is a ``ReportDefinition``; ``build_query`` turns it into SQL assembled only from the fixed pieces
below (metric and dimension keys pick them; filter values and dates travel as bound parameters, never as
SQL text), and ``run_report`` runs it on a locked-down, read-only connection to the published warehouse.

Every result row carries ``searches``: how many distinct patients the row's figure is computed from, so
``core.warehouse.read.suppress_small_cells`` can hide it for analysts.

Example:
    definition = ReportDefinition(metric="placements", dimensions=("month", "region2"))
    frame = run_report(definition)   # columns month, region2, value, searches
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from core.config import Settings
from core.errors import ValidationError
from core.messages import Message, term, words
from core.warehouse.read import current_build

MAX_DIMENSIONS = 2  # a chart stays readable with one axis and one colour
MAX_ROWS = 5_000  # an aggregate never needs more; week x practice is the largest sensible grid

SPELLS = "spells"  # grain: one search (fct_search_spells); the period is the search's start day
ITEMS = "items"  # grain: one sent inquiry item (fct_inquiry_items); the period is the day it was sent

# each grain's relation: the fact mart, for items joined to the search's patient attributes
SOURCES = {
    SPELLS: "select s.*, s.started_on as period_day from fct_search_spells as s",
    ITEMS: (
        "select i.*, cast(i.sent_at as date) as period_day, s.patient_pseudonym, s.gender, s.insurance_type, "
        "coalesce(p.practice_name, 'Therapeut/in ' || cast(i.therapist_id as varchar)) "
        "|| ' (' || cast(i.practice_key as varchar) || ')' as practice_label "
        "from fct_inquiry_items as i "
        "left join fct_search_spells as s on s.search_pseudonym = i.search_pseudonym "
        "left join dim_practices as p on p.practice_id = i.practice_id "
        "where i.sent_at is not null"
    ),
}


@dataclass(frozen=True)
class Metric:
    """One aggregate: ``value`` over the rows of ``grain``; ``base`` marks the rows whose patients it counts."""

    key: str
    grain: str
    value: str
    base: str
    description: str
    kind: str = "count"  # count, rate (share 0..1) or days


# Defined once, as the metric marts define them (sql/models/marts/schema.yml).
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("searches", SPELLS, "count(*)", "true", "Searches started in the period."),
        Metric(
            "placements",
            SPELLS,
            "sum(case when is_placed then 1 else 0 end)",
            "true",
            "Of the searches started in the period, those placed by the snapshot.",
        ),
        Metric(
            "placement_rate_90",
            SPELLS,
            "sum(case when days_since_start >= 90 and is_placed and days_to_placement <= 90 then 1 else 0 end)"
            " * 1.0 / nullif(sum(case when days_since_start >= 90 then 1 else 0 end), 0)",
            "days_since_start >= 90",
            "Placed within 90 days / searches observed >= 90 days (as placed_90 / observed_90).",
            "rate",
        ),
        Metric(
            "median_days_to_placement",
            SPELLS,
            "percentile_cont(0.5) within group (order by days_to_placement)",
            "is_placed",
            "Median days from the start to the placement, over the placed searches.",
            "days",
        ),
        Metric("items_sent", ITEMS, "count(*)", "true", "Inquiry items sent in the period."),
        Metric(
            "offers",
            ITEMS,
            "sum(case when is_offered then 1 else 0 end)",
            "true",
            "Sent items on which the therapist offered a place.",
        ),
        Metric(
            "offer_rate",
            ITEMS,
            "sum(case when is_answered and is_offered then 1 else 0 end) * 1.0"
            " / nullif(sum(case when is_answered then 1 else 0 end), 0)",
            "is_answered",
            "Offered / answered items (mart_response_rates: acceptance_rate).",
            "rate",
        ),
        Metric(
            "response_rate",
            ITEMS,
            "sum(case when is_closed and is_answered then 1 else 0 end) * 1.0"
            " / nullif(sum(case when is_closed then 1 else 0 end), 0)",
            "is_closed",
            "Answered / closed sent items (mart_response_rates: response_rate).",
            "rate",
        ),
    )
}


@dataclass(frozen=True)
class Dimension:
    """One way to split a metric: its SQL expression per grain (a grain it lacks cannot use it)."""

    key: str
    expressions: Mapping[str, str]
    description: str
    temporal: bool = False


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension(
            "month",
            {SPELLS: "cohort_month", ITEMS: "cast(date_trunc('month', sent_at) as date)"},
            "Month the search started (search metrics) or the item was sent (item metrics).",
            temporal=True,
        ),
        Dimension(
            "week",
            {SPELLS: "start_week", ITEMS: "cast(date_trunc('week', sent_at) as date)"},
            "Monday of the week the search started or the item was sent.",
            temporal=True,
        ),
        Dimension(
            "region2",
            {SPELLS: "coalesce(region2, '?')", ITEMS: "coalesce(region2, '?')"},
            "2-digit postcode region of the patient (search metrics) or the practice (item metrics).",
        ),
        Dimension(
            "region3",
            {SPELLS: "coalesce(region3, '?')", ITEMS: "coalesce(region3, '?')"},
            "3-digit postcode region of the patient (search metrics) or the practice (item metrics).",
        ),
        Dimension(
            "procedure",
            {SPELLS: "first_procedure_wish", ITEMS: "coalesce(first_procedure_wish, 'any')"},
            "The first wished procedure (VT, TP, AP, ST) or 'any'.",
        ),
        Dimension(
            "age_band",
            {SPELLS: "coalesce(age_band, '?')", ITEMS: "coalesce(age_band, '?')"},
            "5-year age band at the search start.",
        ),
        Dimension(
            "gender",
            {SPELLS: "coalesce(gender, '?')", ITEMS: "coalesce(gender, '?')"},
            "The patient's gender.",
        ),
        Dimension(
            "insurance_type",
            {SPELLS: "coalesce(insurance_type, '?')", ITEMS: "coalesce(insurance_type, '?')"},
            "Statutory or private insurance.",
        ),
        Dimension("practice", {ITEMS: "practice_label"}, "The practice asked (item metrics only)."),
    )
}


@dataclass(frozen=True)
class ReportDefinition:
    """What a report shows: a metric key, up to two dimension keys, filters (dimension -> values), a period."""

    metric: str
    dimensions: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None

    def to_json(self) -> dict[str, Any]:
        """The definition as stored in saved_report.definition."""
        return {
            "metric": self.metric,
            "dimensions": list(self.dimensions),
            "filters": {key: list(values) for key, values in self.filters.items()},
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportDefinition:
        """Read a stored definition back (validate it before use: the whitelists may have changed)."""

        def day(value: Any) -> date | None:
            if value in (None, ""):
                return None
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise ValidationError(
                    Message(
                        "report.period_invalid",
                        "The period date '{value}' is not a date; use YYYY-MM-DD, e.g. 2026-01-31",
                        value=str(value),
                    ),
                    field="period",
                ) from None

        return cls(
            metric=str(data.get("metric", "")),
            dimensions=tuple(str(d) for d in data.get("dimensions") or ()),
            filters={str(k): tuple(str(v) for v in values) for k, values in (data.get("filters") or {}).items()},
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
        )


def dimensions_for(metric: str) -> list[str]:
    """The dimension keys a metric can be split by (practice only for item metrics)."""
    grain = METRICS[metric].grain
    return [key for key, dimension in DIMENSIONS.items() if grain in dimension.expressions]


def validate(definition: ReportDefinition) -> None:
    """Raise ValidationError naming every part of the definition that is not on the whitelists."""
    errors: dict[str, str] = {}
    metric = METRICS.get(definition.metric)
    if metric is None:
        errors["metric"] = f"Unknown metric '{definition.metric}'; choose one of {', '.join(METRICS)}"
    dims = definition.dimensions
    if len(dims) > MAX_DIMENSIONS:
        errors["dimensions"] = f"At most {MAX_DIMENSIONS} dimensions, not {len(dims)}; drop {', '.join(dims[2:])}"
    elif len(set(dims)) != len(dims):
        errors["dimensions"] = f"Each dimension once: {', '.join(dims)} repeats one"
    for key in (*dims, *definition.filters):
        if key not in DIMENSIONS:
            errors["dimensions"] = f"Unknown dimension '{key}'; choose one of {', '.join(DIMENSIONS)}"
        elif metric is not None and metric.grain not in DIMENSIONS[key].expressions:
            errors["dimensions"] = (
                f"The metric '{metric.key}' cannot be split by '{key}'; "
                f"choose one of {', '.join(dimensions_for(metric.key))}"
            )
    if definition.date_from and definition.date_to and definition.date_from > definition.date_to:
        errors["period"] = (
            f"The period starts {definition.date_from.isoformat()} after it ends {definition.date_to.isoformat()}; "
            "swap the dates"
        )
    if errors:
        raise ValidationError.collect(errors)


def build_query(definition: ReportDefinition) -> tuple[str, list[Any]]:
    """Return the SQL and its parameters for a valid definition (raise ValidationError for an invalid one)."""
    validate(definition)
    metric = METRICS[definition.metric]
    grain = metric.grain
    selected = [f"{DIMENSIONS[key].expressions[grain]} as {key}" for key in definition.dimensions]
    conditions: list[str] = []
    params: list[Any] = []
    if definition.date_from:
        conditions.append("period_day >= ?")
        params.append(definition.date_from)
    if definition.date_to:
        conditions.append("period_day <= ?")
        params.append(definition.date_to)
    for key, values in definition.filters.items():
        if not values:
            continue
        placeholders = ", ".join("?" for _ in values)
        conditions.append(f"cast({DIMENSIONS[key].expressions[grain]} as varchar) in ({placeholders})")
        params.extend(str(v) for v in values)
    where = f"where {' and '.join(conditions)}" if conditions else ""
    columns = ", ".join(
        [
            *selected,
            f"{metric.value} as value",
            f"count(distinct case when {metric.base} then patient_pseudonym end) as searches",
        ]
    )
    positions = ", ".join(str(i + 1) for i in range(len(selected)))
    group = f"group by {positions} order by {positions}" if selected else ""
    # every piece above comes from METRICS / DIMENSIONS / SOURCES; user values are the bound parameters
    sql = f"with facts as ({SOURCES[grain]}) select {columns} from facts {where} {group} limit {MAX_ROWS}"  # noqa: S608
    return sql, params


def execute(definition: ReportDefinition, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Run the report on an open warehouse connection; columns: the dimensions, value, searches."""
    sql, params = build_query(definition)
    frame = con.execute(sql, params).df()
    frame["searches"] = frame["searches"].astype("int64")
    return frame


def run_report(definition: ReportDefinition, *, settings: Settings | None = None) -> pd.DataFrame:
    """Run the report on the published warehouse, opened read-only and locked down like the SQL box."""
    from core.warehouse.sql_box import LOCKED_DOWN

    build = current_build(settings)
    con = duckdb.connect(str(build.path / "warehouse.duckdb"), read_only=True, config=dict(LOCKED_DOWN))
    try:
        return execute(definition, con)
    finally:
        con.close()


def filter_values(dimension: str, *, settings: Settings | None = None) -> list[str]:
    """The values a filter on ``dimension`` can pick from (both grains), for the builder's choices."""
    return filter_value_lists((dimension,), settings=settings)[dimension]


def filter_value_lists(dimensions: Sequence[str], *, settings: Settings | None = None) -> dict[str, list[str]]:
    """The values of each filter in ``dimensions`` (as ``filter_values``), read over one connection.

    Example: ``filter_value_lists(("region2", "gender"))`` -> ``{"region2": ["10", ...], "gender": [...]}``.
    """
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            valid = words([term(f"reports.dimension.{name}", name) for name in DIMENSIONS])
            raise ValidationError(
                Message(
                    "report.dimension_unknown",
                    "Unknown dimension '{dimension}'; choose one of {valid}",
                    dimension=dimension,
                    valid=valid,
                )
            )
    from core.warehouse.sql_box import LOCKED_DOWN

    build = current_build(settings)
    con = duckdb.connect(str(build.path / "warehouse.duckdb"), read_only=True, config=dict(LOCKED_DOWN))
    try:  # a published build passed its dbt tests: every item's search is known
        return {dimension: values_of(dimension, con, searches_known=True) for dimension in dimensions}
    finally:
        con.close()


# Filter values need only what a dimension's expression reads: the items' own columns, or the searches'
# columns over the distinct searches asked. Measured on 1,000,000 items: 0.4-0.5 s CPU per dimension through
# SOURCES' joins, paid for five filters on every uncached visit of the report page; 0.01-0.1 s this way.
ITEM_ROWS = "select i.*, cast(i.sent_at as date) as period_day from fct_inquiry_items as i where i.sent_at is not null"
ITEM_SEARCHES = (
    "select s.patient_pseudonym, s.gender, s.insurance_type "
    "from (select distinct search_pseudonym from fct_inquiry_items where sent_at is not null) as i "
    "left join fct_search_spells as s on s.search_pseudonym = i.search_pseudonym"
)
JOINED_INTO_ITEMS = {"patient_pseudonym", "gender", "insurance_type"}  # SOURCES[ITEMS] takes these from the search
SQL_WORDS = {"coalesce", "cast", "as", "varchar", "date", "date_trunc"}


def _values_source(grain: str, expression: str) -> str:
    """The cheapest relation on which ``expression`` takes the same values as on ``SOURCES[grain]``."""
    if grain != ITEMS:
        return SOURCES[grain]
    names = set(re.findall(r"[a-z_][a-z0-9_]*", re.sub(r"'[^']*'", "", expression.lower())))
    if not names & (JOINED_INTO_ITEMS | {"practice_label"}):
        return ITEM_ROWS
    if names <= JOINED_INTO_ITEMS | SQL_WORDS:
        return ITEM_SEARCHES
    return SOURCES[grain]


def _covered_by_searches(dimension: str, grain: str, expression: str) -> bool:
    """Whether the item grain's values of ``dimension`` are among the search grain's, given known searches.

    True when the item expression reads only columns joined from the item's search and is the search
    grain's expression: every sent item's search is a row of fct_search_spells (the relationships test of
    fct_inquiry_items.search_pseudonym in sql/models/marts/schema.yml), so its value is that search's value.
    Measured on 1,000,000 items: the join over the distinct searches asked cost 0.3 s CPU per filter.
    """
    if grain != ITEMS or DIMENSIONS[dimension].expressions.get(SPELLS) != expression:
        return False
    names = set(re.findall(r"[a-z_][a-z0-9_]*", re.sub(r"'[^']*'", "", expression.lower())))
    return names <= JOINED_INTO_ITEMS | SQL_WORDS


def values_of(dimension: str, con: duckdb.DuckDBPyConnection, *, searches_known: bool = False) -> list[str]:
    """The values of ``dimension`` over both grains on an open warehouse connection, sorted.

    ``searches_known``: every item's search is in fct_search_spells (true of a published build, whose dbt
    tests passed), so dimensions an item takes from its search need no pass over the items.
    """
    values: set[str] = set()
    for grain, expression in DIMENSIONS[dimension].expressions.items():
        if searches_known and _covered_by_searches(dimension, grain, expression):
            continue
        source = _values_source(grain, expression)
        sql = f"with facts as ({source}) select distinct cast({expression} as varchar) from facts"  # noqa: S608
        values |= {row[0] for row in con.execute(sql).fetchall() if row[0] is not None}
    return sorted(values)
