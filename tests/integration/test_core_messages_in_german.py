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
from tests.support.matching import NOW, STAFF, TODAY, propose, searching_patient, sent, therapist


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


def test_answer__a_second_answer_names_both_outcomes_in_german(session, lea, kraus):
    inquiry = sent(session, kraus, [lea])
    item = inquiry.items[0]
    service.record_answer(session, item_id=item.id, outcome="declined_capacity", actor=STAFF, now=NOW)
    text = german(lambda: service.record_answer(session, item_id=item.id, outcome="accepted", actor=STAFF, now=NOW))
    assert text.startswith(f"Patient/in {lea.patient.reference} in Anfrage {inquiry.reference} hat die Antwort „")
    assert "kann nicht „Zusage“ werden (möglich von hier: keiner (Endzustand))." in text
    assert "declined" not in text


def test_conflict__resolving_an_item_that_is_no_conflict_is_refused_in_german(session, lea, kraus):
    inquiry = sent(session, kraus, [lea])
    text = german(
        lambda: service.resolve_conflict(session, item_id=inquiry.items[0].id, action="close", actor=STAFF, now=NOW)
    )
    assert text.endswith("ist kein Konflikt; es gibt nichts zu klären.")


def test_relax__a_too_small_distance_is_refused_with_german_numbers(session, lea):
    lea.patient.max_distance_km = 12.5
    session.flush()
    text = german(
        lambda: service.relax(
            session, search_id=lea.id, rule="distance", value="10,5", actor=STAFF, reason="r", now=NOW
        )
    )
    assert text.startswith("Die Entfernung muss größer als die bisherigen 12,5 km der Person sein")
    assert "höchstens 200 km betragen, z. B. 25" in text


def test_relax__removing_a_relaxation_that_is_not_there_says_none_in_german(session, lea):
    text = german(lambda: service.remove_relaxation(session, search_id=lea.id, rule="distance", actor=STAFF, now=NOW))
    assert text == f"Platzsuche {lea.id} hat keine Lockerung „Entfernung (km)“ (gelockert: keine)."


def test_capacity_page__a_past_date_and_reversed_ages_are_refused_in_german(session, kraus):
    from core.communication import selfservice_capacity as capacity
    from tests.integration.test_selfservice import _therapist_token

    token = _therapist_token(kraus.id)
    yesterday = TODAY - timedelta(days=1)
    past = german(lambda: capacity.report(session, token=token, now=NOW, accepting=True, available_from=yesterday))
    assert past == f"Das Datum {yesterday:%d.%m.%Y} liegt in der Vergangenheit; bitte wählen Sie heute oder später."
    ages = german(
        lambda: capacity.report(session, token=token, now=NOW, accepting=True, pref_age_min=40, pref_age_max=18)
    )
    assert ages == "Das Mindestalter 40 liegt über dem Höchstalter 18; bitte tauschen Sie die beiden."


def test_mein_stand__a_field_patients_cannot_change_is_named_in_german(session, lea):
    from core.communication import selfservice_patient as mein_stand
    from tests.integration.test_selfservice import _patient_token

    token = _patient_token(lea.patient_id)
    text = german(lambda: mein_stand.update_contact(session, token=token, now=NOW, changes={"last_name": "Anders"}))
    assert text == "Nachname können Sie hier nicht ändern; bitte rufen Sie uns an."


def test_login__a_locked_account_says_its_minutes_with_a_german_plural(session):
    from core.auth import service as auth

    auth.create_user(session, email="anna@example.org", role="staff", password="vier zufällige wörter hier")
    for _ in range(5):
        with pytest.raises(WorkbenchError):
            auth.authenticate(session, email="anna@example.org", password="falsch", now=NOW, max_failures=5,
                              lockout=timedelta(minutes=1))  # fmt: skip
    text = german(
        lambda: auth.authenticate(
            session, email="anna@example.org", password="falsch", now=NOW, max_failures=5, lockout=timedelta(minutes=1)
        )
    )
    assert text == "Zu viele Fehlversuche: Das Konto ist noch 1 Minute gesperrt."


def test_create_user__a_short_password_and_a_taken_address_are_refused_in_german(session):
    from core.auth import service as auth

    auth.create_user(session, email="anna@example.org", role="staff", password="vier zufällige wörter hier")
    short = german(lambda: auth.create_user(session, email="ben@example.org", role="staff", password="kurz"))
    assert short.startswith("Das Passwort hat 4 Zeichen; nötig sind mindestens ")
    role = german(lambda: auth.create_user(session, email="ben@example.org", role="chef", password="x" * 20))
    assert role == "Die Rolle „chef“ gibt es nicht; möglich sind: Administration, Vermittlung, Leitung, Analyse."


def test_saved_report__a_taken_name_is_refused_in_german(session):
    from core.auth import service as auth
    from core.reports import service as reports
    from tests.integration.test_saved_reports import BY_REGION

    anna = auth.create_user(session, email="anna@example.org", role="manager", password="correct horse 42")
    reports.create(session, owner=anna, name="Wochenbericht", definition=BY_REGION)
    text = german(lambda: reports.create(session, owner=anna, name="wochenbericht", definition=BY_REGION))
    assert text == (
        "Sie haben schon einen Bericht namens „wochenbericht“; "
        "bitte einen anderen Namen wählen oder diesen Bericht aktualisieren."
    )


def test_sql_box__a_write_and_two_statements_are_refused_in_german():
    import duckdb

    from core.warehouse import sql_box

    con = duckdb.connect()
    write = german(lambda: sql_box.check_query("delete from mart_funnel", allowed=["mart_funnel"], con=con))
    assert write == "Hier ist nur SELECT erlaubt, nicht DELETE; das Warehouse ist schreibgeschützt."
    two = german(lambda: sql_box.check_query("select 1; select 2", allowed=["mart_funnel"], con=con))
    assert two == "Bitte genau eine Anweisung schreiben; diese Abfrage hat 2."


def test_therapist_status__a_block_date_in_the_past_is_refused_in_german():
    from core.therapists import status as therapist_status

    with pytest.raises(WorkbenchError) as caught:
        therapist_status.check_block_until(TODAY - timedelta(days=1), today=TODAY)
    example = TODAY + timedelta(days=28)
    assert say(caught.value, "de") == (
        f"„Gesperrt bis“ {TODAY - timedelta(days=1):%d.%m.%Y} liegt nicht in der Zukunft; "
        f"bitte ein späteres Datum wählen, z. B. {example:%d.%m.%Y}, oder leer lassen."
    )


def test_therapist_status__a_missing_reason_names_the_action_in_german():
    from core.therapists import status as therapist_status

    with pytest.raises(WorkbenchError) as caught:
        therapist_status.check_reason("block", "  ")
    assert (
        say(caught.value, "de") == "Bitte einen Grund angeben („Sperren“), z. B. „Bittet um eine Pause bei Anfragen“."
    )


def test_availability__an_overlap_names_the_german_weekday():
    from core.patients import rules

    windows = [{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}]
    with pytest.raises(WorkbenchError) as caught:
        rules.normalise_availability(windows)
    assert say(caught.value, "de") == (
        "Die Zeitfenster am Di überschneiden sich (08:00–12:00 und ab 11:00); bitte zu einem Fenster zusammenfassen."
    )
    assert say(caught.value, "en").startswith("Windows on Tue overlap")


def test_contact_limits__a_cooling_practice_is_named_in_german():
    from datetime import date

    from core.matching import limits

    [violation] = limits.practice_rules(
        open_references=[], cooldown_until=date(2026, 12, 6), recent_count=0, monthly_cap=2, today=date(2026, 12, 1)
    )
    error = limits.ContactLimitExceeded("A-2026-000001", [violation])
    assert say(error, "de").startswith(
        "Anfrage A-2026-000001 verletzt die Kontaktregeln: die Praxis pausiert bis 06.12.2026."
    )
    assert "override" not in say(error, "de")
