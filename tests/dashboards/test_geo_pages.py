"""Map pages in Streamlit's AppTest: therapist map with filters, supply/demand by PLZ region."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session

from core.patients.models import Patient, Search
from core.therapists.models import Therapist
from tests.dashboards.conftest import log_in, start_app
from tests.dashboards.conftest import texts as visible_texts

VT = {"procedure": "VT", "setting": "individual", "age_group": "adults"}
TP = {"procedure": "TP", "setting": "individual", "age_group": "adults"}


@pytest.fixture(autouse=True)
def fresh_cache():
    """AppTest runs in this process: a cached frame of an earlier test must not leak into the next."""
    import streamlit as st

    st.cache_data.clear()


def add_therapists(engine) -> None:
    with Session(engine) as session:
        session.add_all([
            Therapist(first_name="Anna", last_name="Adler", gender="female", postcode="10115", city="Berlin",
                      latitude=52.532, longitude=13.385, location_precision="address", procedures=[VT],
                      accepting_patients=True),
            Therapist(first_name="Bernd", last_name="Berg", gender="male", postcode="80331", city="München",
                      latitude=48.136, longitude=11.573, location_precision="postcode", procedures=[TP],
                      accepting_patients=False),
            Therapist(first_name="Clara", last_name="Conrad", gender="female", postcode="00000", procedures=[VT]),
        ])  # fmt: skip
        session.commit()


def add_searches(engine, postcode: str, count: int) -> None:
    with Session(engine) as session:
        for i in range(count):
            patient = Patient(reference=f"P-SD{postcode}{i}", first_name="Test", last_name="Person", gender="male",
                              birth_date=date(1980, 1, 1), postcode=postcode)  # fmt: skip
            session.add(patient)
            session.flush()
            session.add(Search(patient_id=patient.id, status="active", started_on=date(2026, 9, 1)))
        session.commit()


def open_page(repo_root, make_user, page: str, *, role: str = "admin", language: str = "de"):
    at = log_in(start_app(repo_root), make_user(email=f"{role}@example.org", role=role))
    if language != "de":
        at.selectbox(key="sidebar_language").select(language).run()
    at.switch_page(f"views/{page}")
    return at.run()


def texts(at) -> str:
    return visible_texts(at) + "\n" + "\n".join(str(c.value) for c in at.caption)


def deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_therapist_map__shows_located_therapists_over_the_outline_and_lists_the_missing(
    repo_root, make_user, committed_db
):
    add_therapists(committed_db)

    at = open_page(repo_root, make_user, "therapist_map.py")

    assert not at.exception
    assert "Therapeut/innen-Karte" in texts(at)
    assert metrics(at) == {"Passend zu den Filtern": "3", "Auf der Karte": "2", "Ohne Standort": "1"}
    spec = deck(at)
    assert [layer["id"] for layer in spec["layers"]] == ["germany-outline", "therapists", "city-labels"]
    assert spec.get("mapProvider") is None  # no basemap tiles: nothing is fetched from the internet
    assert "1 Therapeut/in ohne Standort ist nicht auf der Karte" in texts(at)


def test_therapist_map__filters_narrow_the_map(repo_root, make_user, committed_db):
    add_therapists(committed_db)
    at = open_page(repo_root, make_user, "therapist_map.py")

    at.selectbox(key="therapist_map_proc").select("TP").run()

    assert metrics(at)["Passend zu den Filtern"] == "1"
    layers = {layer["id"]: layer for layer in deck(at)["layers"]}
    assert len(layers["therapists"]["data"]) == 1
    assert "plz-region-lines" in layers  # zoomed in to one therapist: region borders help to find one's way


def test_therapist_map__invalid_plz_prefix_is_explained_and_kept(repo_root, make_user, committed_db):
    add_therapists(committed_db)
    at = open_page(repo_root, make_user, "therapist_map.py")

    at.text_input(key="therapist_map_plz").input("1x").run()

    assert "Der PLZ-Anfang „1x“ muss aus 1 bis 5 Ziffern bestehen, z. B. 10 für Berlin." in texts(at)
    assert at.text_input(key="therapist_map_plz").value == "1x"


def test_therapist_map__nothing_matching_says_how_to_widen_the_filters(repo_root, make_user, committed_db):
    at = open_page(repo_root, make_user, "therapist_map.py")

    assert "Keine Therapeut/innen passen zu diesen Filtern" in texts(at)
    assert at.get("deck_gl_json_chart") == []


def test_supply_demand__colours_regions_and_lists_the_shortest_supply(repo_root, make_user, committed_db):
    add_therapists(committed_db)
    add_searches(committed_db, "10115", 4)  # 4 searches for 1 accepting therapist: short
    add_searches(committed_db, "80331", 2)  # nobody accepts

    at = open_page(repo_root, make_user, "supply_demand.py")

    assert not at.exception
    assert metrics(at) == {"Aktive Suchen": "6", "Aufnehmende Therapeut/innen": "1",
                           "Regionen ohne oder mit knappem Angebot": "2"}  # fmt: skip
    spec = deck(at)
    assert [layer["id"] for layer in spec["layers"]] == ["germany-outline", "regions", "city-labels"]
    table = at.table[0].value
    assert table.index.tolist() == ["803xx", "101xx"]  # nobody accepts in Munich: listed first
    assert table["Lage"].tolist() == ["kein aufnehmendes Angebot", "Mangel"]


def test_supply_demand__empty_installation_explains_when_the_map_fills(repo_root, make_user, committed_db):
    at = open_page(repo_root, make_user, "supply_demand.py", role="analyst")

    assert "Noch keine aktiven Suchen" in texts(at)


def test_supply_demand__in_english(repo_root, make_user, committed_db):
    add_searches(committed_db, "10115", 1)

    at = open_page(repo_root, make_user, "supply_demand.py", language="en")

    assert "Supply and demand" in texts(at)
    assert at.table[0].value["Situation"].tolist() == ["no accepting therapist"]


def patient_map_script(patient_latlon, with_passes: bool) -> None:
    """Runs inside AppTest: the component as the patient detail page will use it."""
    import pandas as pd

    from dashboards.components.maps import patient_map

    frame = pd.DataFrame({
        "name": ["Nah", "Mittel", "Fern", "Ohne Ort"],
        "latitude": [52.53, 52.60, 52.90, None],
        "longitude": [13.40, 13.40, 13.40, None],
    })  # fmt: skip
    if with_passes:
        frame["passes"] = [True, False, True, True]
        frame["reasons"] = ["", "Verfahren passt nicht", "", ""]
    patient_map(patient_latlon=patient_latlon, radius_km=15, therapists_df=frame, key="patient_map")


def run_patient_map(patient_latlon, *, with_passes: bool = False):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_function(patient_map_script, args=(patient_latlon, with_passes), default_timeout=60).run()


def test_patient_map__shows_patient_radius_and_therapists_by_distance_band(database_url):
    at = run_patient_map((52.52, 13.40))

    spec = deck(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert list(layers) == ["germany-outline", "plz-region-lines", "radius", "therapists", "patient", "city-labels"]
    assert layers["radius"]["getRadius"] == 15_000  # metres
    bands = {row["name"]: row["status_label"] for row in layers["therapists"]["data"]}
    assert bands == {"Nah": "im halben Suchradius", "Mittel": "im Suchradius", "Fern": "außerhalb des Suchradius"}
    assert "1 Therapeut/in ohne Standort ist nicht auf der Karte" in texts(at)  # left off the map, never placed at 0 km


def test_patient_map__colours_by_the_filters_once_matching_provides_them(database_url):
    at = run_patient_map((52.52, 13.40), with_passes=True)

    therapists = next(layer for layer in deck(at)["layers"] if layer["id"] == "therapists")["data"]
    assert {row["name"]: (row["status_label"], row["reasons"]) for row in therapists} == {
        "Nah": ("erfüllt alle Kriterien", ""),
        "Mittel": ("erfüllt nicht alle Kriterien", "Verfahren passt nicht"),
        "Fern": ("erfüllt alle Kriterien", ""),
    }


@pytest.mark.parametrize("patient_latlon", [None, (None, None), (float("nan"), 13.4)])
def test_patient_map__patient_without_location_gets_a_warning_and_no_map(database_url, patient_latlon):
    at = run_patient_map(patient_latlon)

    assert "fehlt der Standort" in texts(at)
    assert at.get("deck_gl_json_chart") == []


def test_patient_map__with_map_style_url_draws_over_the_online_basemap(database_url, monkeypatch):
    from core.config import get_settings

    style = "https://basemaps.example.org/styles/positron.json"
    monkeypatch.setenv("MAP_STYLE_URL", style)
    get_settings.cache_clear()
    try:
        spec = deck(run_patient_map((52.52, 13.40)))
    finally:
        monkeypatch.delenv("MAP_STYLE_URL")
        get_settings.cache_clear()

    assert (spec["mapProvider"], spec["mapStyle"]) == ("carto", style)
    assert [layer["id"] for layer in spec["layers"]] == ["radius", "therapists", "patient"]  # the basemap orients
