"""Core messages reach a German user in German: field errors, search blockers, reasons (issue 10, defect 6)."""

from datetime import date

from tests.dashboards.conftest import texts
from tests.dashboards.test_patient_pages import as_staff, make_patient, save

TODAY = date.today()


def test_new_patient__field_errors_are_german(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("x" * 300)
    at.date_input(key="new_patient_birth_date").set_value(date(1985, 6, 1))
    at.text_input(key="new_patient_postcode").input("1067")
    save(at)
    page = texts(at)
    assert "Nachname hat 300 Zeichen; erlaubt sind höchstens 100." in page
    assert "Die PLZ „1067“ muss 5 Ziffern haben, z. B. 10115." in page
    assert "last_name" not in page
    assert "must have 5 digits" not in page


def test_new_patient__a_missing_birth_date_is_asked_for_in_german(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.text_input(key="new_patient_postcode").input("10115")
    save(at)
    page = texts(at)
    assert "Bitte das Geburtsdatum eintragen" in page
    assert "Birth date" not in page
    assert "None" not in page


def test_search_start__blockers_are_german_with_german_numbers(repo_root, staff, committed_db):
    few_hours = [{"weekday": 0, "start": "08:00", "end": "14:24"}]  # 6.4 h a week
    pid = make_patient(committed_db, insurance_type=None, availability=few_hours)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    at.button(key="search_start").click().run()
    page = texts(at)
    assert "Die Einwilligung in die Verarbeitung von Gesundheitsdaten fehlt." in page
    assert "Die Versicherung fehlt" in page
    assert "Verfügbar sind 6,4 h pro Woche; nötig sind mindestens 20 h." in page
    assert "is missing" not in page


def test_patient_protocol_tab__columns_and_actions_are_german(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    at.session_state[f"patient_tabs_{pid}"] = "Protokoll"  # the user opens the tab (only the open tab runs)
    at.run()
    (protocol,) = [d.value for d in at.dataframe if "Aktion" in d.value.columns]
    assert list(protocol.columns) == ["Zeitpunkt", "Wer", "Aktion", "Felder", "Anlass"]
    assert "Akte geöffnet" in set(protocol["Aktion"])
    assert "Akte angelegt" in set(protocol["Aktion"])
    assert not {"patient.viewed", "patient.created"} & set(protocol["Aktion"])


def test_inquiry_thread__mail_status_and_answer_source_are_words(repo_root, staff, committed_db):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from core.communication import answer_page, links
    from core.communication.models import Email, EmailStatus
    from core.config import get_settings
    from tests.support.matching import searching_patient, sent, therapist

    with Session(committed_db) as session:
        inquiry = sent(session, therapist(session, "Kraus"), [searching_patient(session, "Muster")])
        token = links.make_token(
            inquiry.items[0].id,
            secret=get_settings().resolved_secret_key(),
            expires_at=datetime.now(UTC) + timedelta(days=9),
        )
        answer_page.submit(session, token=token, outcome="declined_capacity", now=datetime.now(UTC))
        session.execute(update(Email).where(Email.inquiry_id == inquiry.id).values(status=EmailStatus.SENT))
        inquiry_id = inquiry.id
        session.commit()
    at = as_staff(repo_root, staff, "inquiry_thread.py", id=str(inquiry_id))
    (thread,) = [d.value for d in at.dataframe]
    statuses = set(thread["Status"])
    assert {"Gesendet", "über den Antwort-Link"} <= statuses
    assert not {"sent", "link"} & statuses
