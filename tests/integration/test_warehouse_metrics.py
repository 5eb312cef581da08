"""The metrics of the dbt marts against values worked out by hand on a small fixed data set.

Six searches, extracted on 1 March 2026 (days to placement or censoring in brackets):
    A placed (10)   B placed (20)   C cancelled (15, censored)   D placed (30)   E open (28, censored)
    F placed (10)
Kaplan-Meier by hand: day 10: 2 of 6 placed -> S = 4/6; day 20: 1 of 3 -> S = 4/6 * 2/3 = 0.444;
day 30: 1 of 1 -> S = 0. Median (first S <= 0.5): day 20; q25 (S <= 0.75): day 10; q75 (S <= 0.25): day 30.
Funnel (four items): proposed 4, approved 3, sent 3, answered 2, offered 1, first session 1, in therapy 0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl
import pytest

from core.warehouse.build import WarehouseCheckFailed, run_dbt
from core.warehouse.extract import PSEUDONYMISED, SOURCES

EXTRACTED_ON = date(2026, 3, 1)


def at(day: int, hour: int = 8, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def raw_schema(name: str) -> dict[str, pl.DataType]:
    schema = {}
    for column, dtype in SOURCES[name][1].items():
        if column in PSEUDONYMISED:
            schema[PSEUDONYMISED[column][0]] = pl.String
        else:
            schema[column] = dtype
    return schema


def write(raw_dir, name: str, rows: list[dict]) -> None:
    schema = raw_schema(name)
    frame = pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema)
    frame.write_parquet(raw_dir / f"{name}.parquet")


def search(pseudo: str, started: date, status: str, ended: date | None = None) -> dict:
    return {"search_pseudonym": pseudo, "patient_pseudonym": f"P-{pseudo}", "status": status,
            "started_on": started, "ended_on": ended, "max_parallel_inquiries": 3, "relaxations": 0,
            "patient_status": "searching", "gender": "female", "age_band_low": 30, "region3": "101",
            "region2": "10", "insurance_type": "statutory", "diagnosis_categories": "F32",
            "procedure_wishes": "VT", "setting_wish": "individual", "languages": "de",
            "transport_mode": "transit", "max_distance_km": 15.0, "weekly_hours": 20.0,
            "patient_erased": False}  # fmt: skip


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    work = tmp_path_factory.mktemp("warehouse")
    raw = work / "raw"
    raw.mkdir()
    jan = date(2026, 1, 1)
    write(raw, "searches", [
        search("A", jan, "successful", date(2026, 1, 11)), search("B", jan, "successful", date(2026, 1, 21)),
        search("C", jan, "cancelled", date(2026, 1, 16)), search("D", jan, "successful", date(2026, 1, 31)),
        search("E", date(2026, 2, 1), "active"), search("F", jan, "successful", date(2026, 1, 11)),
    ])  # fmt: skip
    write(raw, "placements", [
        {"placement_id": 1, "search_pseudonym": "A", "therapist_id": 1, "item_id": 1, "placed_on": date(2026, 1, 11),
         "first_session_on": date(2026, 1, 11), "first_session_confirmed_at": at(11)},
        {"placement_id": 2, "search_pseudonym": "B", "therapist_id": 1, "placed_on": date(2026, 1, 21)},
        {"placement_id": 3, "search_pseudonym": "D", "therapist_id": 1, "placed_on": date(2026, 1, 31)},
        {"placement_id": 4, "search_pseudonym": "F", "therapist_id": 1, "placed_on": date(2026, 1, 11)},
    ])  # fmt: skip
    write(raw, "inquiries", [
        {"inquiry_id": 1, "therapist_id": 1, "practice_id": 1, "status": "answered", "proposed_at": at(2),
         "approved_at": at(3), "sent_at": at(4), "answered_at": at(6)},
        {"inquiry_id": 2, "therapist_id": 1, "practice_id": 1, "status": "answered", "proposed_at": at(2),
         "approved_at": at(2, 20), "sent_at": at(3), "answered_at": at(7)},
        {"inquiry_id": 3, "therapist_id": 1, "practice_id": 1, "status": "discarded", "proposed_at": at(5)},
    ])  # fmt: skip
    write(raw, "inquiry_items", [
        {"item_id": 1, "inquiry_id": 1, "search_pseudonym": "A", "outcome": "accepted", "score": 0.2,
         "answered_at": at(6), "answer_source": "link", "proposed_at": at(2)},
        {"item_id": 2, "inquiry_id": 2, "search_pseudonym": "B", "outcome": "declined_capacity", "score": 0.1,
         "answered_at": at(7), "answer_source": "staff", "proposed_at": at(2)},
        {"item_id": 3, "inquiry_id": 2, "search_pseudonym": "C", "outcome": "pending", "score": 0.1,
         "proposed_at": at(2)},
        {"item_id": 4, "inquiry_id": 3, "search_pseudonym": "D", "outcome": "pending", "score": 0.3,
         "proposed_at": at(5)},
    ])  # fmt: skip
    write(raw, "therapists", [{"therapist_id": 1, "practice_id": 1, "gender": "female", "region3": "101",
                               "region2": "10", "procedures": "VT", "languages": "de", "status": "active",
                               "accepting_patients": True, "source": "manual"}])  # fmt: skip
    write(raw, "practices", [{"practice_id": 1, "name": "Praxis am Park", "region3": "101", "region2": "10",
                              "contact_channel": "email"}])  # fmt: skip
    write(raw, "emails", [])
    write(raw, "phone_calls", [])
    counts = {"searches": 6, "inquiries": 3, "inquiry_items": 4, "placements": 4, "therapists": 1, "practices": 1,
              "emails": 0, "phone_calls": 0}  # fmt: skip
    variables = {"extracted_on": EXTRACTED_ON.isoformat(), "pg_counts": counts}
    run_dbt(raw_dir=raw, duckdb_path=work / "w.duckdb", work_dir=work, variables=variables)
    con = duckdb.connect(str(work / "w.duckdb"), read_only=True)
    yield con, raw, work, variables
    con.close()


def test_kaplan_meier__matches_the_hand_computed_curve(marts):
    con = marts[0]
    rows = con.execute(
        "select day, at_risk, events, censored, survival from mart_time_to_placement "
        "where stratum_kind = 'all' order by day"
    ).fetchall()
    by_day = {day: (at_risk, events, censored, survival) for day, at_risk, events, censored, survival in rows}
    assert by_day[10][:3] == (6, 2, 0)
    assert by_day[10][3] == pytest.approx(4 / 6)
    assert by_day[15][:3] == (4, 0, 1)
    assert by_day[15][3] == pytest.approx(4 / 6)  # a censored search does not move the curve
    assert by_day[20][:3] == (3, 1, 0)
    assert by_day[20][3] == pytest.approx(4 / 6 * 2 / 3)
    assert by_day[28][:3] == (2, 0, 1)
    assert by_day[30][:3] == (1, 1, 0)
    assert by_day[30][3] == 0.0


def test_kaplan_meier__median_and_quartiles(marts):
    con = marts[0]
    q25, median, q75, searches, placements = con.execute(
        "select q25_days, median_days, q75_days, searches, placements from mart_time_to_placement_summary "
        "where stratum_kind = 'all'"
    ).fetchone()
    assert (q25, median, q75) == (10, 20, 30)
    assert (searches, placements) == (6, 4)


def test_kaplan_meier__agrees_with_lifelines(marts):
    from lifelines import KaplanMeierFitter

    con = marts[0]
    spells = con.execute("select days_observed, is_placed from fct_search_spells").df()
    fitter = KaplanMeierFitter().fit(spells["days_observed"], spells["is_placed"].astype(int))
    curve = dict(con.execute(
        "select day, survival from mart_time_to_placement where stratum_kind = 'all'"
    ).fetchall())  # fmt: skip
    for day, survival in curve.items():
        assert survival == pytest.approx(float(fitter.survival_function_at_times(day).iloc[0]))
    assert fitter.median_survival_time_ == 20


def test_funnel__matches_the_hand_count(marts):
    con = marts[0]
    rows = con.execute("select step, items, conversion, median_days from mart_funnel order by step_order").fetchall()
    funnel = {step: (items, conversion, median) for step, items, conversion, median in rows}
    assert {step: values[0] for step, values in funnel.items()} == {
        "proposed": 4, "approved": 3, "sent": 3, "answered": 2, "offered": 1, "first_session": 1, "in_therapy": 0,
    }  # fmt: skip
    assert funnel["approved"][1] == pytest.approx(3 / 4)
    assert funnel["answered"][1] == pytest.approx(2 / 3)
    assert funnel["approved"][2] == pytest.approx(0.5)  # 1.0, 0.5, 0.5 days from proposal
    assert funnel["sent"][2] == pytest.approx(0.5)
    assert funnel["answered"][2] == pytest.approx(3.0)  # 2 and 4 days after sending
    assert funnel["first_session"][2] == pytest.approx(5.0)


def test_placement_rates__count_only_searches_observed_long_enough(marts):
    con = marts[0]
    rows = con.execute(
        "select cohort_month, searches, observed_30, placed_30, rate_30, observed_60, rate_60 "
        "from mart_placement_rates order by cohort_month"
    ).fetchall()
    january, february = rows
    assert january[1:5] == (5, 5, 4, pytest.approx(0.8))
    assert january[5] == 0  # 59 days observed: no 60-day rate yet
    assert january[6] is None
    assert february[1:3] == (1, 0)


def test_reconciliation__a_count_that_differs_from_postgres_fails_the_build(marts, tmp_path):
    _, raw, _, variables = marts
    wrong = {**variables, "pg_counts": {**variables["pg_counts"], "inquiry_items": 5}}
    with pytest.raises(WarehouseCheckFailed, match="reconcile_with_postgres"):
        run_dbt(raw_dir=raw, duckdb_path=tmp_path / "w.duckdb", work_dir=tmp_path, variables=wrong)
