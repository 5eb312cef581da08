"""Address validation: the PLZ exists, the street has a house number, PLZ and city agree (a warning only)."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.geo.addresses import check_address


@pytest.mark.parametrize(
    "street",
    [
        "Hauptstraße 5",  # the common case
        "Karl-Marx-Allee 90A",  # hyphenated name, letter suffix
        "Straße des 17. Juni 135",  # digits inside the street name
        "Am Markt 12-14",  # a range of house numbers
        "Hauptstr. 5 b",  # abbreviation, spaced suffix
        "Q7 10",  # Mannheim's grid squares
        "  Invalidenstr.   116 ",  # extra spaces are tidied
    ],
)
def test_check_address__accepts_german_street_forms(session, street):
    assert check_address(session, street=street, postcode="10115", city="Berlin").street == " ".join(street.split())


@pytest.mark.parametrize(
    ("street", "postcode", "field", "message"),
    [
        ("Hauptstraße", "10115", "street", "Street 'Hauptstraße' needs a street name and a house number"),  # no number
        ("12", "10115", "street", "Street '12' needs a street name and a house number"),  # no name
        ("Hauptstraße 5", "1011", "postcode", "PLZ '1011' must have 5 digits, e.g. 10115"),  # four digits
        ("Hauptstraße 5", "00000", "postcode", "PLZ '00000' does not exist in Germany"),  # not a German PLZ
        ("Hauptstraße 5", None, "postcode", "PLZ '' must have 5 digits"),  # missing
    ],
)
def test_check_address__rejects_what_cannot_be_located(session, street, postcode, field, message):
    with pytest.raises(ValidationError, match=message) as caught:
        check_address(session, street=street, postcode=postcode, city="Berlin")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("postcode", "city", "warned"),
    [
        ("10115", "Berlin", False),  # matches
        ("80331", "München", False),  # German spelling of geonames' "Munich"
        ("60311", "Frankfurt am Main", False),  # a multi-word name
        ("10115", "München", True),  # Berlin PLZ, Munich as city: 500 km apart
        ("83727", "Schliersee", False),  # a small place the place list does not know: not judged
        ("10115", None, False),  # no city given
    ],
)
def test_check_address__plz_and_city_disagreeing_is_a_warning_not_an_error(session, postcode, city, warned):
    check = check_address(session, street="Hauptstraße 5", postcode=postcode, city=city)

    assert [w.code for w in check.warnings] == (["postcode_city_mismatch"] if warned else [])
