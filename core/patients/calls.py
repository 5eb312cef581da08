"""Calls to patients: log a call with its purpose and outcome, and what follows from the outcome.

Outcomes (``record_call``):
- ``reached``: the call is logged; a call back follows only if staff give a date for it;
- ``not_reached`` and ``callback_requested``: a follow-up task "call back" is created, due on the next
  working day (Monday to Friday, no German public holiday) after the call's local date, or on the day staff
  give (e.g. the day the patient asked to be called);
- ``wrong_number``: the patient's current phone number is flagged wrong (``Patient.wrong_phone``; the flag
  shows on the patient page until the number is changed) and a task "find the right number" is created.

The note is personal data: audit details and events carry only whether there was one.

Example:
    result = record_call(session, patient_id=7, purpose="status", outcome="not_reached", note=None,
                         actor="anna@example.org", actor_id=3, now=now)
    result.task.due_on  # the next working day
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.auth.models import StaffUser
from core.events import service as events
from core.patients.call_models import CallPurpose, FollowUpTask, PatientCall, PatientCallOutcome, TaskKind
from core.patients.models import Patient
from core.patients.tasks import check_due_on, choice, clean_note, create_task, next_working_day, open_patient

FOLLOW_UP = {  # outcome -> the task that follows it
    PatientCallOutcome.NOT_REACHED: TaskKind.CALL_BACK,
    PatientCallOutcome.CALLBACK_REQUESTED: TaskKind.CALL_BACK,
    PatientCallOutcome.WRONG_NUMBER: TaskKind.CHECK_PHONE,
}


@dataclass(frozen=True)
class CallRecorded:
    call: PatientCall
    task: FollowUpTask | None  # the follow-up the outcome created, if any
    phone_flagged: bool  # the patient's number was flagged wrong


def record_call(
    session: Session,
    *,
    patient_id: int,
    purpose: str | CallPurpose,
    outcome: str | PatientCallOutcome | None,
    actor: str,
    now: datetime,
    note: str | None = None,
    actor_id: int | None = None,
    due_on: date | None = None,
    assignee_id: int | None = None,
) -> CallRecorded:
    """Log a call made to the patient at ``now`` and create its follow-up (see the module docstring).

    ``due_on`` overrides the follow-up's due date (the next working day); given with ``reached`` it asks for a
    call back on that day, so a date staff typed is never silently dropped.
    """
    call_purpose = choice(CallPurpose, purpose, field="call_purpose")
    result = choice(PatientCallOutcome, outcome, field="call_outcome")
    text = clean_note(note)
    today = clock.local_date(now)
    if due_on is not None:
        check_due_on(due_on, today=today)
    patient = open_patient(session, patient_id=patient_id)
    call = PatientCall(patient_id=patient.id, purpose=call_purpose, outcome=result, note=text,
                       staff_user_id=actor_id, called_at=now)  # fmt: skip
    session.add(call)
    session.flush()
    flagged = result == PatientCallOutcome.WRONG_NUMBER and patient.phone is not None
    if flagged:
        # a plain UPDATE: flagging the number is no edit of the record, so it must not refuse a colleague's
        # save of the patient form (optimistic lock) that is in flight right now
        session.execute(update(Patient).where(Patient.id == patient.id).values(wrong_phone=Patient.phone))
        session.refresh(patient, ["wrong_phone"])
        audit.record(session, actor=actor, actor_id=actor_id, action="patient.phone_flagged_wrong",
                     entity_type="patient", entity_id=patient.id, details={"call_id": call.id})  # fmt: skip
        events.emit(session, "patient.phone_flagged_wrong", aggregate_type="patient", aggregate_id=patient.id,
                    payload={"call_id": call.id})  # fmt: skip
    task = None
    if result in FOLLOW_UP or due_on is not None:
        task = create_task(
            session,
            patient_id=patient.id,
            kind=FOLLOW_UP.get(result, TaskKind.CALL_BACK),
            due_on=due_on or next_working_day(today),
            actor=actor,
            actor_id=actor_id,
            now=now,
            call_id=call.id,
            assignee_id=assignee_id,
        )
    audit.record(session, actor=actor, actor_id=actor_id, action="patient_call.recorded", entity_type="patient",
                 entity_id=patient.id, details={"call_id": call.id, "purpose": call_purpose.value,
                                                "outcome": result.value, "note": text is not None,
                                                "task_id": task.id if task else None})  # fmt: skip
    events.emit(session, "patient_call.recorded", aggregate_type="patient", aggregate_id=patient.id,
                payload={"call_id": call.id, "purpose": call_purpose.value, "outcome": result.value,
                         "task_id": task.id if task else None})  # fmt: skip
    return CallRecorded(call=call, task=task, phone_flagged=flagged)


def phone_is_flagged(patient: Patient) -> bool:
    """Whether the patient's current number is the one a call found wrong."""
    return patient.phone is not None and patient.phone == patient.wrong_phone


@dataclass(frozen=True)
class CallRow:
    call_id: int
    called_at: datetime  # local time
    purpose: str
    outcome: str
    note: str | None
    staff: str | None


def calls_of(session: Session, *, patient_id: int) -> list[CallRow]:
    """The patient's calls, latest first."""
    rows = session.execute(
        select(PatientCall, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == PatientCall.staff_user_id)
        .where(PatientCall.patient_id == patient_id)
        .order_by(PatientCall.called_at.desc(), PatientCall.id.desc())
    ).all()
    return [
        CallRow(call.id, clock.local(call.called_at), call.purpose.value, call.outcome.value, call.note, staff)
        for call, staff in rows
    ]


@dataclass(frozen=True)
class PhoneFlag:
    phone: str  # E.164, as stored
    reported_at: datetime | None  # local time of the call that found it wrong


def phone_flag(session: Session, *, patient_id: int) -> PhoneFlag | None:
    """The patient's current number and when a call found it wrong; None while it is not flagged."""
    patient = session.get(Patient, patient_id)
    if patient is None or not phone_is_flagged(patient):
        return None
    when = session.scalar(
        select(PatientCall.called_at)
        .where(PatientCall.patient_id == patient_id, PatientCall.outcome == PatientCallOutcome.WRONG_NUMBER)
        .order_by(PatientCall.called_at.desc())
        .limit(1)
    )
    return PhoneFlag(patient.phone, clock.local(when) if when else None)
