"""Phone numbers as staff dial them: stored in E.164, shown in the national form (international abroad)."""

import pytest

from core.contact import display_phone, normalise_phone


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("030 1234567", "030 1234567"),  # Berlin landline
        ("+49 171 2345678", "0171 2345678"),  # German mobile, typed internationally
        ("04131 12345", "04131 12345"),
        ("+43 1 234567", "+43 1 234567"),  # Vienna: dialled with the country code from Germany
        ("", ""),
    ],
)
def test_display_phone__shows_the_stored_number_as_dialled(typed, shown):
    assert display_phone(normalise_phone(typed)) == shown


def test_display_phone__a_number_stored_before_validation_is_shown_as_it_is():
    assert display_phone("Zentrale, bitte Durchwahl erfragen") == "Zentrale, bitte Durchwahl erfragen"
