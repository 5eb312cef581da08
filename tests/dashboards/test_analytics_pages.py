"""The analytics pages (Auswertung) in AppTest, on a warehouse built from the demo data in PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.dashboards.conftest import PASSWORD, open_page
from tests.dashboards.conftest import texts as visible_texts
from tests.support.warehouse import TODAY, demo_warehouse

PAGES = ["analytics_overview.py", "analytics_success.py", "analytics_process.py", "analytics_bottlenecks.py",
         "analytics_responses.py"]  # fmt: skip


@pytest.fixture(scope="module")
def built(engine):
    with demo_warehouse(engine, seed=11, roles=("manager", "analyst", "staff"), password=PASSWORD) as demo:
        yield demo.users


def pg(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def german(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@pytest.mark.parametrize("role", ["manager", "analyst"])
@pytest.mark.parametrize("page", PAGES)
def test_analytics_page__renders_without_error(built, repo_root, page, role):
    user_id, email = built[role]
    at = open_page(repo_root, page, user_id=user_id, email=email, role=role)
    assert not at.exception, [e.stack_trace for e in at.exception]
    shown = visible_texts(at)
    assert "Datenstand: 30.11.2026" in shown
    assert "Noch keine Auswertungsdaten" not in shown


def test_overview__placements_tile_equals_postgres(built, repo_root, engine):
    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_overview.py", user_id=user_id, email=email, role="manager")
    first = TODAY - timedelta(days=27)
    placements = pg(engine, "SELECT count(*) FROM placement WHERE placed_on BETWEEN :a AND :b", a=first, b=TODAY)
    new = pg(engine, "SELECT count(*) FROM search WHERE started_on BETWEEN :a AND :b", a=first, b=TODAY)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vermittlungen (28 Tage)"] == german(placements)
    assert metrics["Neue Platzsuchen (28 Tage)"] == german(new)


def test_process__funnel_table_equals_postgres(built, repo_root, engine):
    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_process.py", user_id=user_id, email=email, role="manager")
    table = at.table[0].value
    assert table.loc["vorgeschlagen", "Anfragen-Patient/innen"] == german(
        pg(engine, "SELECT count(*) FROM inquiry_item")
    )
    approved = pg(
        engine,
        "SELECT count(*) FROM inquiry_item it JOIN inquiry i ON i.id = it.inquiry_id WHERE i.approved_at IS NOT NULL",
    )
    assert table.loc["freigegeben", "Anfragen-Patient/innen"] == german(approved)


def test_bottlenecks__analyst_sees_no_cell_below_five(built, repo_root):
    user_id, email = built["analyst"]
    at = open_page(repo_root, "analytics_bottlenecks.py", user_id=user_id, email=email, role="analyst")
    table = at.dataframe[0].value
    waiting = table["Wartende Suchen"]
    assert (waiting == "< 5").any(), "the demo has small regions; they must be hidden"
    assert all(value == "< 5" or int(value) >= 5 for value in waiting)


def test_bottlenecks__manager_sees_exact_counts(built, repo_root, engine):
    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_bottlenecks.py", user_id=user_id, email=email, role="manager")
    table = at.dataframe[0].value
    assert int(table["Wartende Suchen"].sum()) == pg(
        engine, "SELECT count(*) FROM search WHERE status IN ('active', 'paused')"
    )


def test_overview__staff_may_open_it_but_not_the_detail_pages(built, repo_root):
    from dashboards.navigation import PAGES as SPECS

    roles = {spec.file: spec.roles for spec in SPECS}
    assert "staff" in roles["analytics_overview.py"]
    for page in PAGES[1:]:
        assert "staff" not in roles[page]


def _run_query(at, sql: str):
    at.text_area(key="sql_query").input(sql)
    next(button for button in at.button if button.label == "Ausführen").click()
    return at.run()


def test_sql_page__analyst_runs_a_query_and_a_write_is_refused(built, repo_root):
    user_id, email = built["analyst"]
    at = open_page(repo_root, "analytics_sql.py", user_id=user_id, email=email, role="analyst")
    at = _run_query(at, "select step, items from mart_funnel order by step_order")
    assert not at.exception
    assert list(at.dataframe[0].value["step"])[:2] == ["proposed", "approved"]
    at = _run_query(at, "copy mart_funnel to '/tmp/x.csv'")
    assert "Hier ist nur SELECT erlaubt" in at.error[0].value


def test_bottlenecks__draws_the_regions_on_an_offline_map(built, repo_root):
    import json

    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_bottlenecks.py", user_id=user_id, email=email, role="manager")
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.json)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    regions = layers["bottleneck-regions"]["data"]
    waiting = {region["region"]: region["waiting"] for region in regions}
    assert len(waiting) > 10
    assert all(value not in {"0", "–"} for value in waiting.values()), "one circle per region where patients wait"
    assert "http" not in json.dumps(spec.get("mapStyle") or ""), "no tile server: the map works offline"
    assert "germany-outline" in layers


def test_bottlenecks__analyst_map_shows_small_regions_hidden(built, repo_root):
    import json

    user_id, email = built["analyst"]
    at = open_page(repo_root, "analytics_bottlenecks.py", user_id=user_id, email=email, role="analyst")
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    regions = next(layer for layer in spec["layers"] if layer["id"] == "bottleneck-regions")["data"]
    waiting = [region["waiting"] for region in regions]
    assert "< 5" in waiting
    assert all(v == "< 5" or int(v.replace(".", "")) >= 5 for v in waiting)
    hidden = {region["radius"] for region in regions if region["waiting"] == "< 5"}
    assert len(hidden) == 1, "hidden regions all have one size: the circle does not tell their count"


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_success__each_survival_curve_shows_the_rows_of_the_whole_mart(built, role):
    # the page reads only the chosen stratum kind; an analyst's hidden cells stay those of the whole table
    from types import SimpleNamespace

    from core.warehouse.read import current_build, read_mart, suppress_small_cells
    from dashboards.components import warehouse

    whole = read_mart("mart_time_to_placement", order_by="stratum, day")
    expected = suppress_small_cells(whole) if role == "analyst" else whole
    user = SimpleNamespace(role=role)
    for kind in ("all", "region2", "procedure", "age_band"):
        part = warehouse.mart_part("mart_time_to_placement", build=current_build(), user=user,
                                   where={"stratum_kind": kind}, order_by="stratum, day")  # fmt: skip
        want = expected[expected["stratum_kind"] == kind]
        assert len(part) > 0
        assert part.reset_index(drop=True).astype(str).equals(want.reset_index(drop=True).astype(str)), kind
    if role == "analyst":
        assert (expected["at_risk"] == "< 5").any()  # the demo has small cells: the comparison means something


def test_bottlenecks__each_circle_sits_at_its_region_centre_with_its_band_named(built, repo_root):
    import json

    from dashboards.data import region_centres

    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_bottlenecks.py", user_id=user_id, email=email, role="manager")
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    regions = next(layer for layer in spec["layers"] if layer["id"] == "bottleneck-regions")["data"]
    centres = region_centres()
    assert len(regions) > 10
    labels = {}
    for region in regions:
        latitude, longitude = centres.loc[region["region"]]
        assert (region["latitude"], region["longitude"]) == pytest.approx((latitude, longitude)), region["region"]
        labels.setdefault(tuple(region["colour"]), set()).add(region["band_label"])
    assert all(len(names) == 1 for names in labels.values()), "one band, one name"
    names = [next(iter(n)) for n in labels.values()]
    assert len(set(names)) == len(names)
    assert not any(n.startswith("analytics.") for n in names)


def test_responses__the_dimension_buttons_pick_the_breakdown_and_an_unpicked_one_means_regions(built, repo_root):
    user_id, email = built["manager"]
    at = open_page(repo_root, "analytics_responses.py", user_id=user_id, email=email, role="manager")
    choice = at.button_group(key="dimension")
    assert (choice.label, choice.value) == ("Je", "region3")
    regions = at.dataframe[0].value["Name"].tolist()
    choice.set_value("procedure").run()
    procedures = set(at.dataframe[0].value["Name"])
    assert "VT" in procedures
    assert not procedures & set(regions)
    at.button_group(key="dimension").set_value(None).run()  # a click on the picked button clears it
    assert at.dataframe[0].value["Name"].tolist() == regions
