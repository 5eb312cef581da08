"""Eigene Auswertungen in AppTest: build, save, share with a colleague, and "< 5" for analysts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.dashboards.conftest import PASSWORD, open_page
from tests.dashboards.conftest import texts as visible_texts
from tests.support.warehouse import demo_warehouse

PAGE = "analytics_reports.py"


@pytest.fixture(scope="module")
def built(engine):
    with demo_warehouse(engine, seed=11, roles=("manager", "analyst"), password=PASSWORD) as demo:
        yield demo.users


@pytest.fixture
def no_saved_reports(engine):
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM saved_report"))


def pg(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def open_as(built, repo_root, role: str):
    user_id, email = built[role]
    at = open_page(repo_root, PAGE, user_id=user_id, email=email, role=role)
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


def build(at, *, metric: str, dimensions: list[str], date_from=None, date_to=None):
    at.selectbox(key="reports_metric").set_value(metric)
    at.multiselect(key="reports_dimensions").set_value(dimensions)
    if date_from or date_to:
        at.date_input(key="reports_from").set_value(date_from)
        at.date_input(key="reports_to").set_value(date_to)
    next(b for b in at.button if b.label == "Auswertung erstellen").click()
    at = at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The files the page's download buttons hand out, by file name (AppTest's media store keeps them per run)."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import app_test

    files: dict[str, bytes] = {}

    class Recording(MediaFileManager):
        def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
            if file_name:
                files[file_name] = path_or_data
            return super().add(path_or_data, mimetype, coordinates, file_name, is_for_static_download)

        def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
            if file_name:  # what a click on the button would hand out
                content = data_callable()
                files[file_name] = content.encode("utf-8") if isinstance(content, str) else content
            return super().add_deferred(data_callable, mimetype, coordinates, file_name, element_id=element_id)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return files


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    at = at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


def test_reports_page__placements_by_region_equal_postgres(built, repo_root, engine):
    at = build(open_as(built, repo_root, "manager"), metric="placements", dimensions=["region2"])
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Region (2-stellig)",
        "Vermittlungen (der begonnenen Suchen)",
        "Patient/innen (Grundlage)",
    ]
    total = sum(int(v.replace(".", "")) for v in table["Vermittlungen (der begonnenen Suchen)"])
    assert total == pg(engine, "SELECT count(*) FROM placement")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    assert "Region (2-stellig)" in charts[0].proto.spec


def test_reports_page__a_reversed_period_is_refused_with_a_clear_error(built, repo_root):
    at = open_as(built, repo_root, "manager")
    at = build(at, metric="searches", dimensions=["month"], date_from=date(2026, 6, 1), date_to=date(2026, 1, 1))
    assert "swap the dates" in at.error[0].value


def test_reports_page__a_saved_shared_report_opens_for_a_colleague(built, repo_root, engine, no_saved_reports):
    at = build(open_as(built, repo_root, "manager"), metric="searches", dimensions=["gender"])
    at.text_input(key="reports_name").input("Suchen je Geschlecht")
    at.checkbox(key="reports_share").check()
    at = click(at, "Speichern")
    assert "Auswertung „Suchen je Geschlecht“ gespeichert." in visible_texts(at)
    assert pg(engine, "SELECT count(*) FROM audit_event WHERE action = 'report.create'") == 1

    colleague = open_as(built, repo_root, "analyst")
    picker = colleague.selectbox(key="reports_picked")
    assert "Suchen je Geschlecht (geteilt von manager)" in picker.options
    saved_id = pg(engine, "SELECT id FROM saved_report")
    colleague = picker.set_value(saved_id).run()
    assert not colleague.exception, [e.stack_trace for e in colleague.exception]
    table = colleague.dataframe[0].value
    assert table.columns[0] == "Geschlecht"
    assert "weiblich" in set(table["Geschlecht"])
    assert "Diese Auswertung gehört manager;" in visible_texts(colleague)
    assert not [b for b in colleague.button if b.label in ("Änderungen speichern", "Löschen")]


def test_reports_page__the_owner_renames_and_deletes_a_report(built, repo_root, engine, no_saved_reports):
    at = build(open_as(built, repo_root, "manager"), metric="offers", dimensions=["month"])
    at.text_input(key="reports_name").input("Angebote")
    at = click(at, "Speichern")
    at.text_input(key="reports_name").input("Angebote je Monat")
    at = click(at, "Änderungen speichern")
    assert pg(engine, "SELECT name FROM saved_report") == "Angebote je Monat"
    at = click(at, "Löschen")
    assert "Auswertung „Angebote je Monat“ gelöscht." in visible_texts(at)
    assert pg(engine, "SELECT count(*) FROM saved_report") == 0


def test_reports_page__analyst_sees_no_figure_from_fewer_than_five_patients(built, repo_root, downloads):
    at = build(open_as(built, repo_root, "analyst"), metric="searches", dimensions=["region3"])
    table = at.dataframe[0].value
    patients = table["Patient/innen (Grundlage)"]
    assert (patients == "< 5").any(), "the demo has small regions; they must be hidden"
    assert all(v == "< 5" or int(v.replace(".", "")) >= 5 for v in patients)
    assert (table.loc[patients == "< 5", "Begonnene Suchen"] == "< 5").all()
    assert "aus weniger als 5 Patient/innen" in visible_texts(at)
    csv = downloads["auswertung_searches.csv"].decode("utf-8").splitlines()
    assert csv[0] == "Region (3-stellig),Begonnene Suchen,Patient/innen (Grundlage)"
    small = [line for line in csv[1:] if line.endswith(",< 5")]
    assert small, "the small regions are in the download too, hidden"
    assert all(line.split(",")[1] == "< 5" for line in small)
    assert all(int(line.split(",")[2]) >= 5 for line in csv[1:] if line not in small)


def test_reports_page__manager_sees_exact_small_counts(built, repo_root):
    at = build(open_as(built, repo_root, "manager"), metric="searches", dimensions=["region3"])
    assert "< 5" not in set(at.dataframe[0].value["Patient/innen (Grundlage)"])


def test_reports_page__is_for_managers_analysts_and_admins_only():
    from dashboards.navigation import PAGES as SPECS

    spec = next(spec for spec in SPECS if spec.file == PAGE)
    assert spec.roles == {"admin", "manager", "analyst"}
    assert spec.url_path == "analytics_reports"


def test_report_metrics__agree_with_the_metric_marts(built):
    from core.warehouse.read import read_mart
    from core.warehouse.reports import ReportDefinition, run_report

    rates = read_mart("mart_placement_rates").dropna(subset=["rate_90"]).set_index("cohort_month")["rate_90"]
    report = run_report(ReportDefinition(metric="placement_rate_90", dimensions=("month",))).set_index("month")
    assert len(rates) > 0
    for month, rate in rates.items():
        assert report.loc[month, "value"] == pytest.approx(rate)

    responses = read_mart("mart_response_rates")
    by_region = responses[responses["dimension"] == "region3"].set_index("value")["response_rate"]
    report = run_report(ReportDefinition(metric="response_rate", dimensions=("region3",))).set_index("region3")
    # regions whose sent items are all still open have no rate yet; the mart leaves them out
    assert by_region.to_dict() == pytest.approx(report["value"].dropna().to_dict())


def test_reports_page__a_hidden_region_cannot_be_worked_out_from_the_total(built, repo_root, downloads):
    from core.warehouse.reports import ReportDefinition, run_report

    total = int(run_report(ReportDefinition(metric="searches", dimensions=())).loc[0, "value"])  # the analyst may ask
    build(open_as(built, repo_root, "analyst"), metric="searches", dimensions=["region3"])
    rows = [line.split(",") for line in downloads["auswertung_searches.csv"].decode("utf-8").splitlines()[1:]]
    hidden = [row for row in rows if row[1] == "< 5"]
    shown = sum(int(row[1]) for row in rows if row[1] != "< 5")
    assert len(hidden) >= 2, "one hidden region alone would be the total minus the regions shown"
    assert total - shown >= 5, "the hidden regions together count at least five"
