"""ICD-10 chapter V codes: forgiving input, one canonical form, and the hierarchy of DESIGN 3.2."""

import pytest

from core.errors import ValidationError
from core.icd10 import covers, covers_any, parse_icd10, parse_icd10_list


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("F32.1", "F32.1"),  # already canonical
        ("f32.1", "F32.1"),  # lower case
        (" F40 ", "F40"),  # category with blanks
        ("F32,1", "F32.1"),  # German decimal comma
        ("F321", "F32.1"),  # dot left out
        ("F45.40", "F45.40"),  # ICD-10-GM five-character code
        ("F00", "F00"),  # first category of chapter V
        ("F99", "F99"),  # last category of chapter V
    ],
)
def test_parse_icd10__returns_the_canonical_code(code, canonical):
    assert parse_icd10(code) == canonical


@pytest.mark.parametrize(
    "code",
    [
        "G40",  # another chapter
        "F4",  # too short
        "F100.1",  # three digits
        "F32.123",  # subcode too long
        "F32.",  # dot without subcode
        "Depression",  # words
        "",  # nothing
    ],
)
def test_parse_icd10__refuses_what_is_not_chapter_v(code):
    with pytest.raises(ValidationError, match=r"is not an ICD-10 code of chapter V; use F00-F99 .* e\.g\. F32\.1"):
        parse_icd10(code, field="pref_diagnoses")


def test_parse_icd10_list__splits_text_and_removes_repeats():
    assert parse_icd10_list("F40, f32,1; F41 F40") == ["F32.1", "F40", "F41"]
    assert parse_icd10_list(["F43.1", "f43.1"]) == ["F43.1"]
    assert parse_icd10_list(None) == []


@pytest.mark.parametrize(
    ("preference", "diagnosis", "covered"),
    [
        ("F40", "F40", True),  # same category
        ("F40", "F40.1", True),  # category covers its subcode
        ("F40.1", "F40.1", True),  # same subcode
        ("F40.1", "F40.2", False),  # sibling subcodes do not cover each other
        ("F40.1", "F40", False),  # a subcode does not cover its category
        ("F4", "F40", False),  # no prefix games: F4 is not a code
        ("F40", "F41.0", False),  # neighbouring category
        ("F45.4", "F45.41", True),  # ICD-10-GM five-character subcode
        ("F45.41", "F45.4", False),  # and not the other way round
        ("F1", "F10", False),  # string prefix is not the hierarchy
    ],
)
def test_covers__follows_the_icd10_hierarchy(preference, diagnosis, covered):
    assert covers(preference, diagnosis) is covered


def test_covers_any__needs_one_covered_pair():
    assert covers_any(["F32", "F40.1"], ["F40.1"])
    assert not covers_any(["F40.1"], ["F40.2", "F41"])
    assert not covers_any([], ["F32"])
