"""Follow-up tasks on real PostgreSQL: create, complete, reopen, what is due, and what is refused."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.auth.models import StaffUser
from core.errors import IllegalTransition, NotFound, ValidationError
from core.patients import tasks
from core.patients.call_models import FollowUpTask
from core.patients.models import Patient, PatientStatus, Search

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
TODAY = date(2026, 12, 14)


@pytest.fixture
def staff(session) -> StaffUser:
    user = StaffUser(email="anna@example.org", display_name="Anna Staff", role="staff", password_hash="x")
    session.add(user)
    session.flush()
    return user


def new_patient(session, reference: str) -> Patient:
    row = Patient(reference=reference, status=PatientStatus.SEARCHING, first_name="Lea", last_name="Beispiel",
                  gender="female", birth_date=date(1990, 4, 2), postcode="10115")  # fmt: skip
    session.add(row)
    session.flush()
    return row


def create(session, staff, **values):
    values.setdefault("kind", "request_missing_data")
    values.setdefault("due_on", TODAY)
    return tasks.create_task(session, actor=staff.email, actor_id=staff.id, now=MONDAY, **values)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 14), date(2026, 12, 15)),  # Monday -> Tuesday
        (date(2026, 12, 18), date(2026, 12, 21)),  # Friday -> Monday
        (date(2026, 12, 24), date(2026, 12, 28)),  # Christmas Eve -> after both holidays and the Sunday
        (date(2026, 12, 31), date(2027, 1, 4)),  # New Year's Eve -> past New Year's Day and the weekend
        (date(2026, 4, 2), date(2026, 4, 7)),  # Maundy Thursday -> past Good Friday and Easter Monday
    ],
)
def test_next_working_day__skips_weekends_and_german_holidays(day, expected):
    assert tasks.next_working_day(day) == expected


def test_due_tasks__lists_overdue_and_today_not_tomorrow_nor_done(session, staff):
    old, today, tomorrow = (new_patient(session, f"P-TASK0{n}") for n in range(3))
    overdue = create(session, staff, patient_id=old.id)
    overdue.due_on = date(2026, 12, 10)  # created earlier, left undone
    due = create(session, staff, patient_id=today.id, kind="call_back", assignee_id=staff.id)
    create(session, staff, patient_id=tomorrow.id, due_on=date(2026, 12, 15))
    done = create(session, staff, patient_id=today.id, kind="check_status")
    tasks.complete_task(session, task_id=done.id, actor=staff.email, actor_id=staff.id, now=MONDAY)
    session.flush()

    rows = tasks.due_tasks(session, today=TODAY)

    assert [(r.task_id, r.reference, r.overdue) for r in rows] == [(overdue.id, "P-TASK00", True),
                                                                   (due.id, "P-TASK01", False)]  # fmt: skip
    assert rows[1].assignee == "Anna Staff"


def test_complete_and_reopen__record_who_and_when_and_refuse_twice(session, staff):
    patient = new_patient(session, "P-TASK10")
    task = create(session, staff, patient_id=patient.id, note="Versichertenkarte fehlt")
    tasks.complete_task(session, task_id=task.id, actor=staff.email, actor_id=staff.id, now=MONDAY)
    assert (task.done_at, task.done_by_id) == (MONDAY, staff.id)
    with pytest.raises(IllegalTransition, match="already done on 2026-12-14") as caught:
        tasks.complete_task(session, task_id=task.id, actor=staff.email, actor_id=staff.id, now=MONDAY)
    assert caught.value.code == "tasks.already_done"

    tasks.reopen_task(session, task_id=task.id, actor=staff.email, actor_id=staff.id, now=MONDAY,
                      due_on=date(2026, 12, 16))  # fmt: skip
    assert (task.done_at, task.due_on) == (None, date(2026, 12, 16))
    with pytest.raises(IllegalTransition, match="still open") as caught:
        tasks.reopen_task(session, task_id=task.id, actor=staff.email, actor_id=staff.id, now=MONDAY)
    assert caught.value.code == "tasks.not_done"
    open_first = tasks.tasks_of(session, patient_id=patient.id, today=TODAY)
    assert [(r.kind, r.note, r.done_on) for r in open_first] == [("request_missing_data", "Versichertenkarte fehlt",
                                                                  None)]  # fmt: skip


def test_create_task__for_a_search_belongs_to_its_patient(session, staff):
    patient = new_patient(session, "P-TASK20")
    search = Search(patient_id=patient.id, started_on=TODAY)
    session.add(search)
    session.flush()
    task = create(session, staff, search_id=search.id, kind="check_status")
    assert (task.patient_id, task.search_id) == (patient.id, search.id)
    other = new_patient(session, "P-TASK21")
    with pytest.raises(ValidationError, match="belongs to another patient"):
        create(session, staff, patient_id=other.id, search_id=search.id)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": ""}, "task_kind", "task_kind is required"),
        ({"kind": "gossip"}, "task_kind", "task_kind 'gossip' is not one of: call_back"),
        ({"due_on": None}, "due_on", "due_on is required"),
        ({"due_on": date(2026, 12, 13)}, "due_on", "2026-12-13 lies in the past"),
        ({"note": "x" * 2001}, "note", "at most 2000"),
        ({"assignee_id": 999999}, "assignee_id", "Staff user 999999 does not exist"),
        ({"patient_id": None}, "patient_id", "patient_id is required"),
    ],
)
def test_create_task__bad_input_is_refused_and_writes_nothing(session, staff, values, field, message):
    patient = new_patient(session, "P-TASK30")
    values.setdefault("patient_id", patient.id)
    with pytest.raises(ValidationError, match=message) as caught:
        create(session, staff, **values)
    assert caught.value.field == field
    assert session.scalar(select(func.count()).select_from(FollowUpTask)) == 0


def test_complete_task__an_unknown_task_is_not_found(session, staff):
    with pytest.raises(NotFound, match="Task 424242 does not exist"):
        tasks.complete_task(session, task_id=424242, actor=staff.email, now=MONDAY)
