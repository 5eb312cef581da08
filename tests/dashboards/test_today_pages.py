"""Heute, the board and the patient path in AppTest, against committed rows in their real states."""

from datetime import UTC, date, datetime, timedelta

from core import clock
from core.communication.models import Email, EmailStatus
from core.db import session_scope
from core.patients.models import Patient, PatientStatus
from core.therapists.models import TherapistStatus
from tests.dashboards.conftest import log_in, open_page, start_app, texts
from tests.support.matching import propose, searching_patient, sent, therapist


def page_links(at) -> list[str]:
    return [link.proto.label for link in at.get("page_link")]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def as_role(repo_root, staff, file, role="staff", **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role=role, query=query)


def some_work(committed_db) -> dict:
    """Commit one proposal, one dead mail, a new patient without consents and a block ending in three days."""
    with session_scope(committed_db) as session:
        propose(session, therapist(session, "Kraus"), [searching_patient(session, "Beispiel")])
        session.add(Email(template="inquiry", to_address="weg@example.org", subject="Anfrage", body_text="x",
                          message_id="<dead@test>", status=EmailStatus.DEAD))  # fmt: skip
        waiting = Patient(reference="P-HEUTE1", status=PatientStatus.NEW, first_name="Lea", last_name="Neu",
                          gender="female", birth_date=date(1990, 1, 1), postcode="10115",
                          insurance_type="statutory", weekly_hours=25)  # fmt: skip
        session.add(waiting)
        blocked = therapist(session, "Urlaub", status=TherapistStatus.BLOCKED, status_reason="Urlaub",
                            status_until=clock.today() + timedelta(days=3))  # fmt: skip
        session.flush()
        return {"patient_id": waiting.id, "therapist_id": blocked.id}


def test_login__staff_land_on_heute(repo_root, make_user):
    at = log_in(start_app(repo_root), make_user(email="sam@example.org", role="staff"))
    assert not at.exception
    assert [title.value for title in at.title] == ["Heute"]


def test_heute__nothing_to_do(repo_root, staff):
    at = as_role(repo_root, staff, "today.py")
    assert not at.exception
    assert "Nichts zu tun." in texts(at)


def test_heute__counts_with_links_to_the_work(repo_root, staff, committed_db):
    some_work(committed_db)
    at = as_role(repo_root, staff, "today.py")
    assert not at.exception
    shown = metrics(at)
    assert (shown["Vorschläge prüfen"], shown["Unzustellbare Mails"], shown["Konflikte"]) == ("1", "1", "0")
    links = page_links(at)
    assert "Öffnen: Vorschläge prüfen" in links
    assert "Öffnen: Unzustellbare Mails" in links
    assert "Öffnen: Konflikte" not in links  # nothing to open
    [blocked] = [link for link in links if link.startswith("P-HEUTE1")]
    assert "Einwilligung Gesundheitsdaten" in blocked
    assert "Einwilligung Profilweitergabe" in blocked
    [ending] = [link for link in links if "Urlaub" in link]
    assert f"gesperrt bis {clock.today() + timedelta(days=3):%d.%m.%Y}" in ending
    assert "1 neue/r Patient/in wartet auf fehlende Angaben." in texts(at)


def test_heute__managers_see_the_counts_without_links_to_pages_they_may_not_open(repo_root, staff, committed_db):
    some_work(committed_db)
    at = as_role(repo_root, staff, "today.py", role="manager")
    assert not at.exception
    assert metrics(at)["Vorschläge prüfen"] == "1"
    assert not any(link.startswith("Öffnen:") for link in page_links(at))


def test_heute__in_english(repo_root, staff, committed_db):
    some_work(committed_db)
    at = as_role(repo_root, staff, "today.py")
    at.session_state["language"] = "en"
    at.run()
    assert [title.value for title in at.title] == ["Today"]
    assert metrics(at)["Review proposals"] == "1"


def test_board__columns_by_step_and_filters(repo_root, staff, committed_db):
    with session_scope(committed_db) as session:
        waiting = searching_patient(session, "Warten", started_on=clock.today() - timedelta(days=90))
        asked = searching_patient(session, "Gefragt", started_on=clock.today() - timedelta(days=5), postcode="20095")
        sent(session, therapist(session, "Kraus"), [asked], now=datetime.now(UTC))
        session.flush()
        refs = (waiting.patient.reference, asked.patient.reference)
    at = as_role(repo_root, staff, "board.py")
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Suche (1)", "Anfragen (1)", "Antworten (0)", "Vermittlung (0)"]
    assert set(refs) <= set(page_links(at))
    assert "90 Tage in diesem Schritt · wartet 90 Tage · aktiv" in texts(at)

    at.text_input(key="board_region").input("20").run()
    assert [s.value for s in at.subheader] == ["Suche (0)", "Anfragen (1)", "Antworten (0)", "Vermittlung (0)"]
    at.text_input(key="board_region").input("").run()
    at.number_input(key="board_waiting").set_value(30).run()
    assert refs[0] in page_links(at)
    assert refs[1] not in page_links(at)

    at.text_input(key="board_region").input("1x").run()
    assert "enthält andere Zeichen als Ziffern" in texts(at)


def test_board__empty_filters_say_so(repo_root, staff):
    at = as_role(repo_root, staff, "board.py")
    assert not at.exception
    assert "Keine Suchen mit diesen Filtern." in texts(at)


def test_patient_page__shows_the_path_with_the_current_step(repo_root, staff, committed_db):
    with session_scope(committed_db) as session:
        search = searching_patient(session, "Weg", started_on=clock.today() - timedelta(days=12))
        session.flush()
        patient_id = search.patient_id
    at = as_role(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    page = texts(at)
    assert "Weg der Patientin / des Patienten" in page
    assert "Suche** (aktueller Schritt)" in page
    assert "12 Tage" in page
    assert "Vermittlung  \nnoch offen" in page
