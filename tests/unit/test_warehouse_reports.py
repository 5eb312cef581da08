"""The report builder: whitelisted SQL only, and figures equal to hand counts on a tiny warehouse."""

from __future__ import annotations

import random
from datetime import date, datetime

import duckdb
import pytest

from core.errors import ValidationError
from core.warehouse.read import SUPPRESSED, suppress_small_cells
from core.warehouse.reports import DIMENSIONS, SOURCES, ReportDefinition, build_query, execute, values_of

# 8 searches: patient p7 searched twice. Columns as in fct_search_spells (only those reports read).
SPELLS = [
    # search, patient, started, is_placed, days_to_placement, days_since_start, region2, gender, wish, insurance
    ("s1", "p1", "2026-01-05", True, 20, 200, "10", "female", "VT", "statutory"),
    ("s2", "p2", "2026-01-12", True, 100, 190, "10", "male", "VT", "statutory"),
    ("s3", "p3", "2026-01-20", False, None, 180, "10", "female", "TP", "private"),
    ("s4", "p4", "2026-01-25", True, 40, 170, "12", "female", "VT", "statutory"),
    ("s5", "p5", "2026-02-03", True, 30, 60, "12", "diverse", "any", "statutory"),
    ("s6", "p6", "2026-02-10", False, None, 50, "10", "female", "VT", "statutory"),
    ("s7", "p7", "2026-02-15", False, None, 45, "10", "male", "VT", "statutory"),
    ("s8", "p7", "2026-03-01", True, 10, 30, "10", "male", "VT", "statutory"),
]
# items: id, search, practice_id, sent, answered, offered, closed, region2
ITEMS = [
    (1, "s1", 1, "2026-01-06", True, True, True, "10"),
    (2, "s2", 1, "2026-01-13", True, False, True, "10"),
    (3, "s3", 2, "2026-01-21", False, False, True, "10"),
    (4, "s3", 2, "2026-02-02", True, False, True, "10"),
    (5, "s6", 1, "2026-02-11", False, False, False, "10"),
    (6, "s7", 2, None, False, False, False, "10"),  # proposed, never sent: no item metric counts it
]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "create table fct_search_spells (search_pseudonym varchar, patient_pseudonym varchar, started_on date, "
        "cohort_month date, start_week date, is_placed boolean, days_to_placement integer, "
        "days_since_start integer, region2 varchar, region3 varchar, gender varchar, first_procedure_wish varchar, "
        "insurance_type varchar, age_band varchar)"
    )
    for s, p, started, placed, days, since, region2, gender, wish, insurance in SPELLS:
        con.execute(
            "insert into fct_search_spells values (?, ?, ?::date, date_trunc('month', ?::date), "
            "date_trunc('week', ?::date), ?, ?, ?, ?, ? || '1', ?, ?, ?, '30-34')",
            [s, p, started, started, started, placed, days, since, region2, region2, gender, wish, insurance],
        )
    con.execute(
        "create table fct_inquiry_items (item_id integer, search_pseudonym varchar, therapist_id integer, "
        "practice_id integer, practice_key integer, sent_at timestamp, is_answered boolean, is_offered boolean, "
        "is_closed boolean, region2 varchar, region3 varchar, first_procedure_wish varchar, age_band varchar)"
    )
    for item, search, practice, sent, answered, offered, closed, region2 in ITEMS:
        con.execute(
            "insert into fct_inquiry_items values "
            "(?, ?, 10 + ?, ?, ?, ?::timestamp, ?, ?, ?, ?, ? || '1', 'VT', '30-34')",
            [item, search, practice, practice, practice, sent, answered, offered, closed, region2, region2],
        )
    con.execute("create table dim_practices (practice_id integer, practice_name varchar)")
    con.execute("insert into dim_practices values (1, 'Praxis Am Markt'), (2, 'Praxis Seeblick')")
    yield con
    con.close()


def rows(frame) -> dict:
    keys = [c for c in frame.columns if c not in ("value", "searches")]

    def label(value) -> str:
        return value.date().isoformat() if hasattr(value, "date") else str(value)

    return {tuple(label(r[k]) for k in keys): (r["value"], r["searches"]) for _, r in frame.iterrows()}


def test_report__searches_by_month_count_searches_and_patients(con):
    frame = execute(ReportDefinition(metric="searches", dimensions=("month",)), con)
    # March: one search by p7, who also searched in February
    assert rows(frame) == {("2026-01-01",): (4, 4), ("2026-02-01",): (3, 3), ("2026-03-01",): (1, 1)}


def test_report__placements_by_region_and_gender(con):
    frame = execute(ReportDefinition(metric="placements", dimensions=("region2", "gender")), con)
    assert rows(frame) == {
        ("10", "female"): (1, 3),  # s1 placed; s3, s6 not
        ("10", "male"): (2, 2),  # s2, s8 placed; s7 not; s7 and s8 are one patient
        ("12", "diverse"): (1, 1),
        ("12", "female"): (1, 1),
    }


def test_report__placement_rate_90_counts_only_searches_observed_90_days(con):
    frame = execute(ReportDefinition(metric="placement_rate_90"), con)
    # observed >= 90 days: s1..s4; placed within 90: s1 (20), s4 (40); s2 took 100 days
    value, searches = rows(frame)[()]
    assert value == pytest.approx(2 / 4)
    assert searches == 4


def test_report__median_days_over_placed_searches_in_the_period(con):
    definition = ReportDefinition(
        metric="median_days_to_placement", date_from=date(2026, 1, 10), date_to=date(2026, 2, 28)
    )
    # started in the period and placed: s2 (100), s4 (40), s5 (30)
    assert rows(execute(definition, con))[()] == (40, 3)


def test_report__item_rates_by_practice_count_sent_items_only(con):
    response = execute(ReportDefinition(metric="response_rate", dimensions=("practice",)), con)
    offer = execute(ReportDefinition(metric="offer_rate", dimensions=("practice",)), con)
    # practice 1: closed items 1, 2 both answered (item 5 is open); practice 2: closed 3, 4, one answered
    assert rows(response) == {("Praxis Am Markt (1)",): (1.0, 2), ("Praxis Seeblick (2)",): (0.5, 1)}
    # offers among answered: practice 1 one of two; practice 2 none of one
    assert rows(offer) == {("Praxis Am Markt (1)",): (0.5, 2), ("Praxis Seeblick (2)",): (0.0, 1)}


def test_report__filters_keep_only_the_chosen_values(con):
    definition = ReportDefinition(metric="items_sent", dimensions=("gender",), filters={"procedure": ("VT",)})
    # sent items (all VT): female 1, 3, 4, 5 from p1, p3 (twice), p6; male 2 from p2
    assert rows(execute(definition, con)) == {("female",): (4, 3), ("male",): (1, 1)}
    only_female = ReportDefinition(metric="searches", filters={"gender": ("female",), "region2": ("10",)})
    assert rows(execute(only_female, con)) == {(): (3, 3)}


def test_report__filter_value_is_a_parameter_never_sql(con):
    hostile = ReportDefinition(metric="searches", filters={"gender": ("x') or true --",)})
    sql, params = build_query(hostile)
    assert "or true" not in sql
    assert params == ["x') or true --"]
    assert rows(execute(hostile, con)) == {(): (0, 0)}


@pytest.mark.parametrize(
    ("definition", "field", "named"),
    [
        (ReportDefinition(metric="drop table x"), "metric", "drop table x"),  # unknown metric
        (ReportDefinition(metric="searches", dimensions=("1; select",)), "dimensions", "1; select"),
        (
            ReportDefinition(metric="searches", filters={"patient_pseudonym": ("p1",)}),
            "dimensions",
            "patient_pseudonym",
        ),
        (ReportDefinition(metric="searches", dimensions=("practice",)), "dimensions", "practice"),  # items only
        (ReportDefinition(metric="searches", dimensions=("month", "gender", "region2")), "dimensions", "region2"),
        (
            ReportDefinition(metric="searches", date_from=date(2026, 3, 1), date_to=date(2026, 1, 1)),
            "period",
            "2026-03-01",
        ),
    ],
)
def test_build_query__refuses_what_is_not_whitelisted(definition, field, named):
    with pytest.raises(ValidationError) as caught:
        build_query(definition)
    assert field in caught.value.errors
    assert named in caught.value.errors[field]


def test_report__small_cells_are_hidden_by_the_patient_count(con):
    frame = execute(ReportDefinition(metric="searches", dimensions=("region2",)), con)
    assert frame.set_index("region2").loc["10", "value"] == 6  # six searches of five patients (p7 twice)
    hidden = suppress_small_cells(frame).set_index("region2")
    # region 12 has two patients: hidden; region 10 (five) too, or the report's total minus 10 would show 12
    assert hidden.loc["12", "value"] == SUPPRESSED
    assert hidden.loc["12", "searches"] == SUPPRESSED
    assert hidden.loc["10", "value"] == SUPPRESSED


def test_definition__survives_a_round_trip_through_json():
    definition = ReportDefinition(
        metric="offers", dimensions=("week", "practice"), filters={"gender": ("female",)}, date_from=date(2026, 1, 1)
    )
    assert ReportDefinition.from_json(definition.to_json()) == definition


def values_by_definition(con, dimension: str) -> list[str]:
    """The filter values as the report's own relation defines them: every grain's SOURCES, joins and all."""
    values = set()
    for grain, expression in DIMENSIONS[dimension].expressions.items():
        sql = f"with facts as ({SOURCES[grain]}) select distinct cast({expression} as varchar) from facts"
        values |= {row[0] for row in con.execute(sql).fetchall() if row[0] is not None}
    return sorted(values)


@pytest.mark.parametrize("dimension", list(DIMENSIONS))
def test_values_of__offers_exactly_the_values_a_report_can_show(con, dimension):
    assert values_of(dimension, con) == values_by_definition(con, dimension)


@pytest.mark.parametrize("seed", range(5))
def test_values_of__agrees_with_the_definition_on_random_marts(seed):
    # random searches and items, with missing attributes, unsent items and items whose search is unknown
    check_random_marts(seed, searches_known=False)


@pytest.mark.parametrize("seed", range(5, 15))
def test_values_of__with_known_searches_agrees_with_the_definition_on_random_marts(seed):
    # as a published build: every item's search is a search of the warehouse (its relationships test)
    check_random_marts(seed, searches_known=True)


def check_random_marts(seed: int, *, searches_known: bool) -> None:
    rng = random.Random(seed)
    con = duckdb.connect()
    con.execute(
        "create table fct_search_spells (search_pseudonym varchar, patient_pseudonym varchar, started_on date, "
        "cohort_month date, start_week date, region2 varchar, region3 varchar, gender varchar, "
        "first_procedure_wish varchar, insurance_type varchar, age_band varchar)"
    )
    con.execute(
        "create table fct_inquiry_items (item_id integer, search_pseudonym varchar, therapist_id integer, "
        "practice_id integer, practice_key integer, sent_at timestamp, region2 varchar, region3 varchar, "
        "first_procedure_wish varchar, age_band varchar)"
    )
    con.execute("create table dim_practices (practice_id integer, practice_name varchar)")
    con.execute("insert into dim_practices values (1, 'Praxis Am Markt'), (2, 'Praxis Seeblick')")

    def pick(*choices):
        return rng.choice([None, *choices])

    searches = rng.randint(1 if searches_known else 0, 30)
    for s in range(searches):
        started = date(2026, rng.randint(1, 12), rng.randint(1, 28))
        con.execute(
            "insert into fct_search_spells values (?, ?, ?, date_trunc('month', ?), date_trunc('week', ?), "
            "?, ?, ?, ?, ?, ?)",
            [f"s{s}", f"p{s % 7}", started, started, started, pick("10", "12"), pick("101", "123"),
             pick("female", "male", "diverse"), rng.choice(["VT", "TP", "any"]), pick("statutory", "private"),
             pick("30-34", "60-64")],
        )  # fmt: skip
    for item in range(rng.randint(0, 60)):
        search = rng.randrange(searches) if searches_known else rng.randint(0, 40)
        sent = rng.choice([None, datetime(2026, rng.randint(1, 12), rng.randint(1, 28), 9)])
        practice = pick(1, 2, 3)
        con.execute(
            "insert into fct_inquiry_items values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item, f"s{search}", 10 + item % 4, practice, practice or -(10 + item % 4), sent,
             pick("10", "13"), pick("101", "134"), pick("VT", "AP"), pick("30-34", "20-24")],
        )  # fmt: skip
    try:
        for dimension in DIMENSIONS:
            assert values_of(dimension, con, searches_known=searches_known) == values_by_definition(con, dimension), (
                dimension
            )
    finally:
        con.close()
