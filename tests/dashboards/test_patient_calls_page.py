"""The patient page's "Anrufe & Aufgaben" tab and the tasks on "Heute", in AppTest against committed rows."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.db import session_scope
from core.patients import calls, tasks
from core.patients import service as patients
from core.patients.call_models import FollowUpTask, PatientCall
from tests.dashboards.conftest import open_page, texts


def make_patient(committed_db, **changes) -> int:
    data = {"first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1990, 3, 1),
            "postcode": "10115", "phone": "030 1234567", "insurance_type": "statutory"}  # fmt: skip
    data.update(changes)
    with session_scope(committed_db) as session:
        return patients.create(session, data=data, actor="t@example.org", today=clock.today()).id


def as_staff(repo_root, staff, file, **query):
    """Open ``file``; the patient page with its calls tab open (only the open tab runs), as a click on it does."""
    user_id, email = staff
    at = open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)
    if file == "patient.py":
        at.session_state[f"patient_tabs_{query['id']}"] = "Anrufe & Aufgaben"
        at.run()
    return at


def submit(at, label: str):
    next(b for b in at.button if b.key.startswith("FormSubmitter:") and b.label == label).click().run()


def test_patient_calls__empty_states(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    shown = texts(at)
    assert "Anruf erfassen" in shown
    assert "Noch keine Anrufe erfasst." in shown
    assert "Keine offenen Aufgaben." in shown


def test_patient_calls__a_not_reached_call_shows_in_the_history_with_a_call_back_task(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    at.radio(key=f"pcall_outcome_{patient_id}_0").set_value("not_reached")
    at.text_area(key=f"pcall_note_{patient_id}_0").input("Mailbox, keine Nachricht hinterlassen")
    submit(at, "Anruf speichern")

    assert not at.exception
    due = tasks.next_working_day(clock.today())
    shown = texts(at)
    assert f"Anruf gespeichert. Aufgabe „Zurückrufen“ fällig am {due:%d.%m.%Y}." in shown
    assert f"**Zurückrufen** · fällig am {due:%d.%m.%Y}" in shown
    history = next(frame.value for frame in at.dataframe if "Ergebnis" in frame.value.columns)
    assert list(history["Ergebnis"]) == ["Nicht erreicht"]
    assert list(history["Notiz"]) == ["Mailbox, keine Nachricht hinterlassen"]
    assert at.text_area(key=f"pcall_note_{patient_id}_1").value == ""  # a fresh form for the next call
    assert at.radio(key=f"pcall_outcome_{patient_id}_1").value is None


def test_patient_calls__a_call_without_outcome_is_refused_and_keeps_the_note(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    at.text_area(key=f"pcall_note_{patient_id}_0").input("Rückfrage zur Versicherung")
    submit(at, "Anruf speichern")

    assert [e.value for e in at.error] == ["Ergebnis des Anrufs: Pflichtfeld – bitte ausfüllen."]
    assert at.text_area(key=f"pcall_note_{patient_id}_0").value == "Rückfrage zur Versicherung"
    with Session(committed_db) as session:
        assert session.scalars(select(PatientCall)).all() == []


def test_patient_calls__wrong_number_is_flagged_under_the_header(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    at.radio(key=f"pcall_outcome_{patient_id}_0").set_value("wrong_number")
    submit(at, "Anruf speichern")

    assert not at.exception
    [warning] = [w.value for w in at.warning if "als falsch gemeldet" in w.value]
    today = f"{clock.today():%d.%m.%Y}"
    assert warning.startswith(f"Die Telefonnummer 030 1234567 ist als falsch gemeldet (Anruf am {today})")
    assert "**Richtige Telefonnummer herausfinden**" in texts(at)


def test_patient_calls__done_and_reopen(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    with session_scope(committed_db) as session:
        tasks.create_task(session, patient_id=patient_id, kind="request_missing_data", due_on=clock.today(),
                          note="Versichertenkarte fehlt", actor="t@example.org", now=clock.now())  # fmt: skip
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert "**Fehlende Angaben anfordern** · :orange[**heute fällig**]  \nVersichertenkarte fehlt" in texts(at)
    next(b for b in at.button if b.label == "Erledigt").click().run()

    assert "Aufgabe erledigt." in texts(at)
    assert "Keine offenen Aufgaben." in texts(at)
    assert at.expander[0].label == "Erledigte Aufgaben (1)"
    next(b for b in at.button if b.label == "Wieder öffnen").click().run()
    assert "Aufgabe wieder geöffnet." in texts(at)
    with Session(committed_db) as session:
        assert session.scalar(select(FollowUpTask.done_at)) is None


def test_patient_calls__a_new_task_with_a_date(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    due = clock.today() + timedelta(days=9)
    at.selectbox(key=f"ptask_kind_{patient_id}_0").set_value("check_status")
    at.date_input(key=f"ptask_due_on_{patient_id}_0").set_value(due)
    submit(at, "Aufgabe anlegen")

    assert not at.exception
    assert "Aufgabe angelegt." in texts(at)
    assert f"**Stand erfragen** · fällig am {due:%d.%m.%Y}" in texts(at)


def test_heute__lists_due_and_overdue_tasks_with_links_to_the_patient(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    later_id = make_patient(committed_db, last_name="Später", phone=None)
    with session_scope(committed_db) as session:
        reference = patients.get(session, patient_id=patient_id).reference
        called = calls.record_call(session, patient_id=patient_id, purpose="status", outcome="callback_requested",
                                   due_on=clock.today(), actor="t@example.org", now=clock.now())  # fmt: skip
        overdue = tasks.create_task(session, patient_id=patient_id, kind="request_missing_data",
                                    due_on=clock.today(), actor="t@example.org", now=clock.now())  # fmt: skip
        overdue.due_on = clock.today() - timedelta(days=3)  # left undone since
        tasks.create_task(session, patient_id=later_id, kind="other", due_on=clock.today() + timedelta(days=2),
                          actor="t@example.org", now=clock.now())  # fmt: skip
        assert called.task is not None
    at = as_staff(repo_root, staff, "today.py")

    assert not at.exception
    assert "2 Aufgaben fällig, davon 1 überfällig." in texts(at)
    links = [(link.proto.label, link.proto.page) for link in at.get("page_link") if "fällig" in link.proto.label]
    overdue_since = f"{clock.today() - timedelta(days=3):%d.%m.%Y}"
    assert [label for label, _ in links] == [
        f"{reference} · Fehlende Angaben anfordern · überfällig seit {overdue_since}",
        f"{reference} · Zurückrufen · heute fällig",
    ]
