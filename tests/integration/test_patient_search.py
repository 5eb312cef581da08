"""Finding patients by name as staff type it: without accents, without invisible characters, one character."""

from datetime import date

import pytest

from core.patients import service as patients
from core.patients.queries import PatientFilters, list_patients, quick_search

TODAY = date(2026, 11, 26)
STAFF = "anna@example.org"


def add(session, first: str, last: str, **changes):
    data = {"first_name": first, "last_name": last, "gender": "female", "birth_date": date(1990, 1, 1),
            "postcode": "10115", **changes}  # fmt: skip
    return patients.create(session, data=data, actor=STAFF, today=TODAY, allow_duplicate=True)


def quick_names(session, query: str) -> list[str]:
    return [f"{r['first_name']} {r['last_name']}" for r in quick_search(session, query=query)]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        (("Ivana", "Ćosić"), "Cosic"),  # Croatian diacritics, typed on a German keyboard
        (("Zoë", "Adler"), "Zoe"),  # diaeresis
        (("Zoe", "Adler"), "Zoë"),  # and the other way round
        (("Jörg", "Straße"), "strasse"),  # ß as ss
        (("Lea", "Mustermann"), "MUSTERMANN"),  # case, as before
    ],
)
def test_quick_search__ignores_case_and_accents(session, stored, typed):
    add(session, *stored)
    assert quick_names(session, typed) == [" ".join(stored)]


def test_quick_search__finds_a_one_character_name(session):
    add(session, "伟", "李")
    add(session, "Lea", "Beispiel")
    assert quick_names(session, "李") == ["伟 李"]


def test_create__invisible_characters_never_reach_the_name_so_the_name_is_found(session):
    patient = add(session, "Lea\u00ad", "Muster\u200bmann\ufeff")  # pasted from a web page or a PDF
    assert (patient.first_name, patient.last_name) == ("Lea", "Mustermann")
    assert quick_names(session, "Mustermann") == ["Lea Mustermann"]


def test_list__text_filter_ignores_accents(session):
    add(session, "Ivana", "Ćosić")
    add(session, "Lea", "Beispiel")
    page = list_patients(session, filters=PatientFilters(text="cosic"), today=TODAY)
    assert [r["last_name"] for r in page.rows] == ["Ćosić"]


def test_list__percent_and_underscore_are_searched_literally(session):
    add(session, "Lea", "Beispiel")
    assert list_patients(session, filters=PatientFilters(text="%"), today=TODAY).rows == []
    assert quick_search(session, query="_e") == []


@pytest.mark.parametrize("first", ["Zoe", "Zoë", "zoë\u200b"])
def test_create__duplicate_check_sees_through_accents_case_and_invisible_characters(session, first):
    add(session, "Zoë", "Ćosić")
    with pytest.raises(patients.PossibleDuplicate) as found:
        patients.create(
            session,
            data={"first_name": first, "last_name": "Cosic", "gender": "female", "birth_date": date(1990, 1, 1),
                  "postcode": "20095"},
            actor=STAFF,
            today=TODAY,
        )  # fmt: skip
    assert [c.reasons for c in found.value.candidates] == [("name_birth_date",)]
