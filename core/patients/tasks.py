"""Follow-up tasks about a patient: what staff must do next (call back, ask for missing data), and by when.

A task belongs to a patient (and, optionally, to one of the patient's searches), has a ``kind`` from a fixed
set plus an optional free-text ``note`` (personal data: never in audit details or events), a due date in the
service's local calendar (``core.clock``) and an optional assignee. States: open -> done -> (reopened) open.

Example:
    task = create_task(session, patient_id=7, kind="request_missing_data", due_on=date(2026, 12, 2),
                       actor="anna@example.org", actor_id=3, now=now)
    complete_task(session, task_id=task.id, actor="anna@example.org", actor_id=3, now=now)
    [row.reference for row in due_tasks(session, today=clock.today())]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.auth.models import StaffUser
from core.errors import IllegalTransition, NotFound, ValidationError
from core.events import service as events
from core.messages import Message, field_name
from core.patients.call_models import FollowUpTask, TaskKind
from core.patients.models import Patient, Search
from core.patients.service import get as get_patient

NOTE_MAX_LENGTH = 2000  # about a page: enough for what was said, short enough to read on the patient page


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.Germany(years=year)


def next_working_day(day: date) -> date:
    """Return the first Monday-to-Friday after ``day`` that is no German public holiday.

    Example: next_working_day(date(2026, 12, 24)) -> date(2026, 12, 28) (25th/26th holidays, 27th a Sunday).
    """
    following = day + timedelta(days=1)
    while following.weekday() >= 5 or following in _holidays(following.year):
        following += timedelta(days=1)
    return following


def clean_note(value: str | None, *, field: str = "note") -> str | None:
    """Return the note trimmed, None when empty; refuse one longer than NOTE_MAX_LENGTH."""
    text = (value or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            Message(
                "validation.too_long", "{field} has {length} characters; at most {max_length} are allowed",
                field=field_name(field), length=len(text), max_length=NOTE_MAX_LENGTH,
            ),
            field=field,
        )  # fmt: skip
    return text or None


def choice(enum_cls, value: object, *, field: str):
    """Return ``value`` as a member of ``enum_cls``; refuse an empty or unknown one, naming the options."""
    if value is None or value == "":
        raise ValidationError(Message("validation.required", "{field} is required", field=field_name(field)),
                              field=field)  # fmt: skip
    try:
        return enum_cls(value)
    except ValueError:
        options = ", ".join(member.value for member in enum_cls)
        raise ValidationError(
            Message("validation.not_one_of", "{field} '{value}' is not one of: {options}",
                    field=field_name(field), value=value, options=options),
            field=field,
        ) from None  # fmt: skip


def check_due_on(due_on: object, *, today: date) -> date:
    """Return ``due_on`` if it is a date from ``today`` on; a task due yesterday would be overdue at birth."""
    if not isinstance(due_on, date):
        raise ValidationError(Message("validation.required", "{field} is required", field=field_name("due_on")),
                              field="due_on")  # fmt: skip
    if due_on < today:
        raise ValidationError(
            Message("tasks.due_in_past", "The due date {value} lies in the past; pick today or a later day",
                    value=due_on),
            field="due_on",
        )  # fmt: skip
    return due_on


def _check_assignee(session: Session, assignee_id: int | None) -> int | None:
    if assignee_id is None:
        return None
    user = session.get(StaffUser, assignee_id)
    if user is None or not user.is_active:
        raise ValidationError(
            Message("tasks.assignee_unknown", "Staff user {value} does not exist or is deactivated; pick another",
                    value=assignee_id),
            field="assignee_id",
        )  # fmt: skip
    return assignee_id


def open_patient(session: Session, *, patient_id: int) -> Patient:
    """Return the patient calls and tasks are about; refuse an erased one (nobody to call any more)."""
    patient = get_patient(session, patient_id=patient_id)
    if patient.erased_at is not None:
        raise ValidationError(
            Message("tasks.patient_erased", "Patient {reference} was erased; calls and tasks cannot be added",
                    reference=patient.reference),
            field="patient_id",
        )  # fmt: skip
    return patient


def create_task(
    session: Session,
    *,
    kind: str | TaskKind,
    due_on: date,
    actor: str,
    now: datetime,
    patient_id: int | None = None,
    search_id: int | None = None,
    note: str | None = None,
    assignee_id: int | None = None,
    actor_id: int | None = None,
    call_id: int | None = None,
) -> FollowUpTask:
    """Add an open task about a patient or one of their searches (give either; a search names its patient)."""
    task_kind = choice(TaskKind, kind, field="task_kind")
    text = clean_note(note)
    due = check_due_on(due_on, today=clock.local_date(now))
    if search_id is not None:
        search = session.get(Search, search_id)
        if search is None:
            raise NotFound(Message("tasks.search_not_found", "Search {value} does not exist", value=search_id))
        if patient_id is not None and search.patient_id != patient_id:
            raise ValidationError(
                Message("tasks.search_of_other_patient", "Search {value} belongs to another patient",
                        value=search_id),
                field="search_id",
            )  # fmt: skip
        patient_id = search.patient_id
    if patient_id is None:
        raise ValidationError(Message("validation.required", "{field} is required", field=field_name("patient_id")),
                              field="patient_id")  # fmt: skip
    patient = open_patient(session, patient_id=patient_id)
    task = FollowUpTask(
        patient_id=patient.id, search_id=search_id, call_id=call_id, kind=task_kind, note=text, due_on=due,
        assignee_id=_check_assignee(session, assignee_id), created_by_id=actor_id,
    )  # fmt: skip
    session.add(task)
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="followup_task.created", entity_type="patient",
                 entity_id=patient.id, details={"task_id": task.id, "kind": task_kind.value, "due_on": due.isoformat(),
                                                "call_id": call_id, "note": text is not None})  # fmt: skip
    events.emit(session, "followup_task.created", aggregate_type="patient", aggregate_id=patient.id,
                payload={"task_id": task.id, "kind": task_kind.value, "due_on": due.isoformat(), "call_id": call_id,
                         "search_id": search_id})  # fmt: skip
    return task


def get_task(session: Session, *, task_id: int) -> FollowUpTask:
    """Return the task (locked for the caller's transaction) or raise NotFound."""
    task = session.scalar(
        select(FollowUpTask).where(FollowUpTask.id == task_id).with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip
    if task is None:
        raise NotFound(Message("tasks.not_found", "Task {value} does not exist; pick a task from the list",
                               value=task_id))  # fmt: skip
    return task


def complete_task(session: Session, *, task_id: int, actor: str, now: datetime,
                  actor_id: int | None = None) -> FollowUpTask:  # fmt: skip
    """Mark an open task done by ``actor``; a task already done is refused (someone was quicker)."""
    task = get_task(session, task_id=task_id)
    if task.done_at is not None:
        raise IllegalTransition(
            Message("tasks.already_done", "Task {value} was already done on {date}; reopen it to work on it again",
                    value=task.id, date=clock.local_date(task.done_at))
        )  # fmt: skip
    task.done_at, task.done_by_id = now, actor_id
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="followup_task.completed", entity_type="patient",
                 entity_id=task.patient_id, details={"task_id": task.id, "kind": task.kind.value})  # fmt: skip
    events.emit(session, "followup_task.completed", aggregate_type="patient", aggregate_id=task.patient_id,
                payload={"task_id": task.id, "kind": task.kind.value})  # fmt: skip
    return task


def reopen_task(session: Session, *, task_id: int, actor: str, now: datetime, actor_id: int | None = None,
                due_on: date | None = None) -> FollowUpTask:  # fmt: skip
    """Open a done task again; it keeps its due date unless ``due_on`` is given (then from today on)."""
    task = get_task(session, task_id=task_id)
    if task.done_at is None:
        raise IllegalTransition(
            Message("tasks.not_done", "Task {value} is still open; only a done task can be reopened", value=task.id)
        )
    if due_on is not None:
        task.due_on = check_due_on(due_on, today=clock.local_date(now))
    task.done_at = task.done_by_id = None
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="followup_task.reopened", entity_type="patient",
                 entity_id=task.patient_id,
                 details={"task_id": task.id, "due_on": task.due_on.isoformat()})  # fmt: skip
    events.emit(session, "followup_task.reopened", aggregate_type="patient", aggregate_id=task.patient_id,
                payload={"task_id": task.id, "kind": task.kind.value, "due_on": task.due_on.isoformat()})  # fmt: skip
    return task


@dataclass(frozen=True)
class TaskRow:
    task_id: int
    version: int
    patient_id: int
    reference: str  # the patient's pseudonymous reference: lists show no names
    kind: str
    note: str | None
    due_on: date
    overdue: bool
    assignee: str | None
    done_on: date | None
    done_by: str | None


def _rows(session: Session, query, *, today: date) -> list[TaskRow]:
    assignee = StaffUser.__table__.alias("assignee")
    doer = StaffUser.__table__.alias("doer")
    rows = session.execute(
        query.add_columns(Patient.reference, assignee.c.display_name, doer.c.display_name)
        .join(Patient, Patient.id == FollowUpTask.patient_id)
        .outerjoin(assignee, assignee.c.id == FollowUpTask.assignee_id)
        .outerjoin(doer, doer.c.id == FollowUpTask.done_by_id)
    ).all()
    return [
        TaskRow(task.id, task.version, task.patient_id, reference, task.kind.value, task.note, task.due_on,
                task.done_at is None and task.due_on < today, assignee_name,
                clock.local_date(task.done_at) if task.done_at else None, doer_name)
        for task, reference, assignee_name, doer_name in rows
    ]  # fmt: skip


def tasks_of(session: Session, *, patient_id: int, today: date) -> list[TaskRow]:
    """The patient's tasks: open ones by due date first, then the done ones, latest first."""
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.patient_id == patient_id)
        .order_by(FollowUpTask.done_at.desc().nulls_first(), FollowUpTask.due_on, FollowUpTask.id)
    )
    return _rows(session, query, today=today)


def due_tasks(session: Session, *, today: date) -> list[TaskRow]:
    """Open tasks due ``today`` or earlier (overdue first: the oldest has waited longest)."""
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.done_at.is_(None), FollowUpTask.due_on <= today)
        .order_by(FollowUpTask.due_on, FollowUpTask.id)
    )
    return _rows(session, query, today=today)


def assignees(session: Session) -> list[tuple[int, str]]:
    """The active staff users a task can be given to, as (id, display name), by name."""
    rows = session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.is_active.is_(True), StaffUser.role.in_(("staff", "admin", "manager")))
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [(user_id, name) for user_id, name in rows]
