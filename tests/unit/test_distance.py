"""Great-circle distances, the "location missing" rule and travel-time estimates per mode."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.geo.distance import distance_check, haversine_km, haversine_matrix_km, location_missing
from core.geo.travel import MODES, estimate_minutes, reachable_km, travel_time

BERLIN = (52.5200, 13.4050)
MUNICH = (48.1372, 11.5756)


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        (BERLIN, MUNICH, 504.3),  # city centres; the figure road atlases quote as "about 504 km"
        ((52.5321, 13.3847), (48.1360, 11.5729), 505.4),  # centroids of PLZ 10115 (Berlin) and 80331 (Munich)
        ((53.5511, 9.9937), BERLIN, 255.3),  # Hamburg - Berlin
        ((50.9375, 6.9603), (50.1109, 8.6821), 152.5),  # Cologne - Frankfurt am Main
        ((54.7844, 9.4302), (47.4981, 11.0432), 817.9),  # Flensburg - Garmisch-Partenkirchen: north to south
        (BERLIN, BERLIN, 0.0),  # the same point
    ],
)
def test_haversine__known_pairs(a, b, km):
    assert float(haversine_km(*a, *b)) == pytest.approx(km, abs=0.1)


def test_haversine__agrees_with_geopys_great_circle_and_stays_within_half_a_percent_of_the_ellipsoid():
    from geopy.distance import geodesic, great_circle

    ours = float(haversine_km(*BERLIN, *MUNICH))
    assert ours == pytest.approx(great_circle(BERLIN, MUNICH).km, rel=1e-6)
    assert ours == pytest.approx(geodesic(BERLIN, MUNICH).km, rel=5e-3)


latitudes = st.floats(min_value=47.0, max_value=55.5)
longitudes = st.floats(min_value=5.5, max_value=15.5)
points = st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=20)


@given(origins=points, targets=points)
def test_haversine__vectorised_matrix_and_single_pairs_agree(origins, targets):
    matrix = haversine_matrix_km(origins, targets)

    assert matrix.shape == (len(origins), len(targets))
    for i, (lat1, lon1) in enumerate(origins):
        for j, (lat2, lon2) in enumerate(targets):
            assert matrix[i, j] == pytest.approx(float(haversine_km(lat1, lon1, lat2, lon2)), abs=1e-9)


@given(a=st.tuples(latitudes, longitudes), b=st.tuples(latitudes, longitudes))
def test_haversine__is_symmetric_and_never_negative(a, b):
    there, back = float(haversine_km(*a, *b)), float(haversine_km(*b, *a))
    assert there == pytest.approx(back, abs=1e-9)
    assert there >= 0


@pytest.mark.parametrize(
    ("lat", "lon", "missing"),
    [
        (52.52, 13.40, False),  # a real location
        (float("nan"), 13.40, True),  # latitude unknown
        (None, None, True),  # nothing stored
        (95.0, 13.40, True),  # impossible latitude
        (52.52, 200.0, True),  # impossible longitude
        (0.0, 0.0, False),  # a real point (in the Atlantic): unusual, but not "missing"
    ],
)
def test_location_missing__flags_unknown_and_impossible_coordinates(lat, lon, missing):
    assert bool(location_missing(np.array([lat], dtype=float), np.array([lon], dtype=float))[0]) is missing


def test_distance_check__a_missing_location_is_excluded_with_its_reason_never_zero_km():
    check = distance_check(BERLIN, lat=[52.50, None, 48.1372], lon=[13.40, None, 11.5756], max_km=25)

    assert check.passed.tolist() == [True, False, False]
    assert check.reasons.tolist() == ["", "location_missing", "too_far"]
    assert check.location_missing.tolist() == [False, True, False]
    assert math.isnan(check.km[1])  # unknown, not 0 km: the old system's 0 km matched patients 50 km away


@pytest.mark.parametrize("origin", [None, (None, None), (float("nan"), 13.4)])
def test_distance_check__a_patient_without_location_matches_nobody_by_distance(origin):
    check = distance_check(origin, lat=[52.52, 52.53], lon=[13.40, 13.41], max_km=1_000)

    assert check.passed.tolist() == [False, False]
    assert check.reasons.tolist() == ["location_missing", "location_missing"]
    assert np.isnan(check.km).all()


def test_distance_check__limit_can_differ_per_target():
    check = distance_check(BERLIN, lat=[52.52, 52.52], lon=[13.55, 13.55], max_km=[5, 20])

    assert check.reasons.tolist() == ["too_far", ""]


@pytest.mark.parametrize(
    ("mode", "km", "minutes"),
    [
        ("car", 10.0, 20.6),  # 5 min access + 13 km road at 50 km/h (15.6 min)
        ("transit", 10.0, 54.0),  # 12 min walking and waiting + 14 km line at 20 km/h (42 min)
        ("bike", 10.0, 52.0),  # 2 min + 12.5 km at 15 km/h (50 min)
        ("foot", 2.0, 33.3),  # 2.5 km path at 4.5 km/h
        ("car", 0.0, 5.0),  # next door: only the access time
    ],
)
def test_estimate_minutes__follows_the_documented_speeds(mode, km, minutes):
    assert float(estimate_minutes(km, mode)) == pytest.approx(minutes, abs=0.05)


def test_estimate_minutes__vectorised_agrees_with_single_values_and_keeps_nan():
    distances = np.array([1.0, 7.5, np.nan, 30.0])
    for mode in MODES:
        many = estimate_minutes(distances, mode)
        assert np.isnan(many[2])
        for km, value in zip(distances[[0, 1, 3]], many[[0, 1, 3]], strict=True):
            assert value == pytest.approx(float(estimate_minutes(km, mode)))


@pytest.mark.parametrize("mode", list(MODES))
def test_reachable_km__inverts_the_estimate(mode):
    assert float(estimate_minutes(reachable_km(45, mode), mode)) == pytest.approx(45)


def test_estimate_minutes__unknown_mode_names_the_valid_ones():
    with pytest.raises(ValueError, match="'plane' is unknown; use one of car, transit, bike, foot"):
        estimate_minutes(10, "plane")


def test_travel_time__without_routing_server_is_the_estimate():
    result = travel_time(BERLIN, (52.52, 13.55), mode="transit")

    assert result.source == "estimate"
    assert result.minutes == pytest.approx(float(estimate_minutes(result.distance_km, "transit")))


def test_travel_time__missing_location_gives_no_minutes_and_the_reason():
    result = travel_time(BERLIN, None, mode="car")

    assert math.isnan(result.minutes)
    assert result.reason == "location_missing"
