"""Errors of the matching, self-service, auth and report services read in German (issue 10, defect 6).

Each test provokes a refusal through the real service on real PostgreSQL and says the error the way the
dashboard does (``say``): German words, German plurals and numbers, no English left over.
"""

from datetime import timedelta

import pytest

from core.config import load_settings
from core.errors import WorkbenchError
from core.matching import service
from core.patients.models import SearchStatus
from dashboards.i18n import say
from tests.support.matching import NOW, STAFF, TODAY, propose, searching_patient, therapist


def german(call) -> str:
    with pytest.raises(WorkbenchError) as caught:
        call()
    assert caught.value.code, f"no message code: {caught.value}"
    return say(caught.value, "de")


@pytest.fixture
def lea(session):
    return searching_patient(session, "Beispiel")


@pytest.fixture
def tom(session):
    return searching_patient(session, "Muster", first_name="Tom")


@pytest.fixture
def kraus(session):
    return therapist(session, "Kraus")


def test_add_search__a_full_inquiry_is_refused_in_german_with_a_singular(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea])
    settings = load_settings(match_inquiry_max_size=1)
    text = german(
        lambda: service.add_search(
            session, inquiry_id=inquiry.id, search_id=tom.id, actor=STAFF, now=NOW, settings=settings
        )
    )
    assert text == f"Anfrage {inquiry.reference} hat schon 1 Patient/in (höchstens 1); bitte zuerst jemanden entfernen."


def test_add_search__a_paused_search_is_named_with_its_german_state(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea])
    tom.status, tom.paused_until = SearchStatus.PAUSED, TODAY + timedelta(days=30)
    session.flush()
    text = german(lambda: service.add_search(session, inquiry_id=inquiry.id, search_id=tom.id, actor=STAFF, now=NOW))
    assert "ist pausiert; nur aktive Platzsuchen können hinzugefügt werden." in text


def test_edits__unknown_records_and_the_last_patient_are_refused_in_german(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    assert german(
        lambda: service.add_search(session, inquiry_id=inquiry.id, search_id=999999, actor=STAFF, now=NOW)
    ) == ("Platzsuche 999999 wurde nicht gefunden; bitte die Seite neu laden.")
    assert german(lambda: service.remove_item(session, item_id=inquiry.items[0].id, actor=STAFF, now=NOW)) == (
        f"Anfrage {inquiry.reference} braucht mindestens eine Patient/in; bitte stattdessen die Anfrage verwerfen."
    )


def test_discard__the_missing_reason_is_asked_for_in_german(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    text = german(lambda: service.discard(session, inquiry_id=inquiry.id, actor=STAFF, reason=" ", now=NOW))
    assert text.startswith("Bitte einen Grund für das Verwerfen angeben")
