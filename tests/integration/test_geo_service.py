"""Map read models: therapist locations with the list's filters, supply and demand per 3-digit PLZ region."""

from __future__ import annotations

import math
from datetime import date

import pytest

from core.errors import ValidationError
from core.geo.service import (
    TherapistMapFilter,
    balance_category,
    region_features,
    supply_demand_by_region,
    therapist_locations,
)
from core.patients.models import Patient, Search
from core.therapists.models import Therapist

VT_ADULTS = {"procedure": "VT", "setting": "individual", "age_group": "adults"}
TP_GROUP = {"procedure": "TP", "setting": "group", "age_group": "adults"}
ST_YOUTH = {"procedure": "ST", "setting": "individual", "age_group": "children_youth"}


def therapist(session, last_name, postcode="10115", *, located=True, **values) -> Therapist:
    record = Therapist(
        first_name="Test", last_name=last_name, gender="female", postcode=postcode, city="Berlin",
        latitude=52.53 if located else None, longitude=13.38 if located else None,
        location_precision="postcode" if located else "none", procedures=values.pop("procedures", [VT_ADULTS]),
        **values,
    )  # fmt: skip
    session.add(record)
    session.flush()
    return record


def search(session, postcode, *, status="active", index=0) -> Search:
    patient = Patient(reference=f"P-{postcode}{index}{status[:2]}", first_name="Test", last_name="Person",
                      gender="male", birth_date=date(1985, 5, 5), postcode=postcode)  # fmt: skip
    session.add(patient)
    session.flush()
    record = Search(patient_id=patient.id, status=status, started_on=date(2026, 9, 1),
                    paused_until=date(2026, 12, 1) if status == "paused" else None)  # fmt: skip
    session.add(record)
    session.flush()
    return record


@pytest.fixture
def therapists(session):
    therapist(session, "Adler", procedures=[VT_ADULTS], languages=["de", "en"], accepting_patients=True)
    therapist(session, "Berg", "80331", procedures=[TP_GROUP, VT_ADULTS], accepting_patients=False)
    therapist(session, "Conrad", "10117", procedures=[ST_YOUTH], accepting_patients=None, located=False)
    therapist(session, "Dorn", procedures=[VT_ADULTS], status="blocked", status_reason="Urlaub")
    return session


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        (TherapistMapFilter(), ["Adler", "Berg", "Conrad"]),  # default: active therapists only
        (TherapistMapFilter(status=None), ["Adler", "Berg", "Conrad", "Dorn"]),  # any status
        (TherapistMapFilter(procedure="VT"), ["Adler", "Berg"]),  # offers VT
        (TherapistMapFilter(procedure="TP", setting="group"), ["Berg"]),  # TP as group
        (TherapistMapFilter(procedure="VT", setting="group"), []),  # Berg offers VT and group, but not VT as group
        (TherapistMapFilter(age_group="children_youth"), ["Conrad"]),  # children and youth
        (TherapistMapFilter(language="en"), ["Adler"]),  # speaks English
        (TherapistMapFilter(accepting="yes"), ["Adler"]),  # confirmed accepting
        (TherapistMapFilter(accepting="unknown"), ["Conrad"]),  # never confirmed
        (TherapistMapFilter(plz_prefix="101"), ["Adler", "Conrad"]),  # Berlin-Mitte region
        (TherapistMapFilter(plz_prefix="8"), ["Berg"]),  # southern Bavaria
    ],
)
def test_therapist_locations__apply_the_lists_filters(therapists, filters, names):
    assert therapist_locations(therapists, filters=filters)["name"].str.removeprefix("Test ").tolist() == names


def test_therapist_locations__missing_location_is_nan_with_precision_none(therapists):
    frame = therapist_locations(therapists, filters=TherapistMapFilter()).set_index("name")

    assert math.isnan(frame.loc["Test Conrad", "latitude"])
    assert frame.loc["Test Conrad", "precision"] == "none"
    assert frame.loc["Test Adler", ["accepting", "procedures", "languages"]].tolist() == ["yes", "VT", "de, en"]


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        (TherapistMapFilter(plz_prefix="1a"), "plz_prefix", "PLZ prefix '1a' must be 1 to 5 digits, e.g. 10"),
        (TherapistMapFilter(procedure="XY"), "procedure", "procedure 'XY' is not one of VT, TP, AP, ST, e.g. VT"),
        (TherapistMapFilter(accepting="maybe"), "accepting", "accepting 'maybe' is not one of yes, no, unknown"),
    ],
)
def test_therapist_locations__invalid_filter_names_the_field(session, filters, field, message):
    with pytest.raises(ValidationError, match=message) as caught:
        therapist_locations(session, filters=filters)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("searches", "therapists", "band"),
    [
        (0, 0, "no_demand"),  # nothing happening
        (0, 4, "no_demand"),  # supply without demand
        (3, 0, "no_supply"),  # searches, but nobody accepts
        (2, 2, "balanced"),  # one search per therapist
        (5, 2, "tight"),  # 2.5 per therapist
        (7, 2, "short"),  # 3.5 per therapist
    ],
)
def test_balance_category__bands(searches, therapists, band):
    assert balance_category(searches, therapists) == band


def test_supply_demand__counts_active_searches_and_accepting_therapists_per_region(therapists):
    session = therapists
    for i in range(3):
        search(session, "10115", index=i)
    search(session, "10117", status="paused")  # paused: not searching right now
    search(session, "80331", status="cancelled")
    therapist(session, "Engel", "10119", accepting_patients=True)

    balance = supply_demand_by_region(session)

    frame = balance.frame
    assert len(frame) == 671
    assert frame.loc["101", ["searches", "therapists", "balance"]].tolist() == [3, 2, "tight"]
    assert frame.loc["101", "place"] == "Mitte"  # the place most of the region's postcodes belong to
    assert frame.loc["803", ["searches", "therapists", "balance"]].tolist() == [0, 0, "no_demand"]
    assert (balance.searches_without_region, balance.therapists_without_region) == (0, 0)


def test_region_features__carry_the_numbers_and_no_infinity(session):
    search(session, "10115")

    features = region_features(supply_demand_by_region(session).frame)

    berlin = next(f for f in features["features"] if f["properties"]["region"] == "101")
    assert berlin["properties"]["balance"] == "no_supply"
    assert berlin["properties"]["searches_per_therapist"] is None  # JSON has no Infinity
    assert berlin["geometry"]["type"] == "MultiPolygon"
