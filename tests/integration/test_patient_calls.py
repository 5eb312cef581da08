"""Calls to patients on real PostgreSQL: outcomes, their follow-up tasks, the wrong-number flag, privacy."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.auth.models import StaffUser
from core.errors import ValidationError
from core.events.models import DomainEvent
from core.patients import calls, privacy, tasks
from core.patients.call_models import FollowUpTask, PatientCall
from core.patients.models import Patient, PatientStatus

FRIDAY_17 = datetime(2026, 12, 18, 16, 0, tzinfo=UTC)  # Friday 17:00 in Berlin
CHRISTMAS_EVE = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # Thursday; the 25th and 26th are holidays
TUESDAY_NIGHT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already Wednesday 00:30 in Berlin
NOTE = "Frau Beispiel sagt, sie sei ab Januar vormittags frei"  # free text: personal data


@pytest.fixture
def staff(session) -> StaffUser:
    user = StaffUser(email="anna@example.org", display_name="Anna Staff", role="staff", password_hash="x")
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def patient(session) -> Patient:
    row = Patient(reference="P-CALL01", status=PatientStatus.SEARCHING, first_name="Lea", last_name="Beispiel",
                  gender="female", birth_date=date(1990, 4, 2), postcode="10115", phone="+4915510000001")  # fmt: skip
    session.add(row)
    session.flush()
    return row


def record(session, patient, staff, outcome, **values):
    values.setdefault("purpose", "status")
    values.setdefault("now", FRIDAY_17)
    return calls.record_call(session, patient_id=patient.id, outcome=outcome, actor=staff.email, actor_id=staff.id,
                             **values)  # fmt: skip


def test_record_call__not_reached_creates_a_call_back_due_on_the_next_working_day(session, patient, staff):
    result = record(session, patient, staff, "not_reached")
    assert result.call.outcome == "not_reached"
    assert result.task.kind == "call_back"
    assert result.task.due_on == date(2026, 12, 21)  # Friday -> Monday
    assert result.task.call_id == result.call.id
    assert [row.outcome for row in calls.calls_of(session, patient_id=patient.id)] == ["not_reached"]


def test_record_call__callback_requested_skips_the_christmas_holidays(session, patient, staff):
    result = record(session, patient, staff, "callback_requested", now=CHRISTMAS_EVE)
    assert result.task.due_on == date(2026, 12, 28)


def test_record_call__the_due_date_follows_the_local_date_after_midnight(session, patient, staff):
    result = record(session, patient, staff, "not_reached", now=TUESDAY_NIGHT)
    assert result.task.due_on == date(2026, 12, 3)  # local Wednesday -> Thursday, not UTC Tuesday -> Wednesday


def test_record_call__staff_may_give_the_due_date(session, patient, staff):
    result = record(session, patient, staff, "callback_requested", due_on=date(2027, 1, 5))
    assert result.task.due_on == date(2027, 1, 5)


def test_record_call__reached_creates_no_task_unless_a_date_is_given(session, patient, staff):
    assert record(session, patient, staff, "reached").task is None
    later = record(session, patient, staff, "reached", purpose="missing_data", due_on=date(2026, 12, 22))
    assert (later.task.kind, later.task.due_on) == ("call_back", date(2026, 12, 22))


def test_record_call__wrong_number_flags_the_phone_until_it_is_changed(session, patient, staff):
    assert not calls.phone_is_flagged(patient)
    version = patient.version
    result = record(session, patient, staff, "wrong_number")
    assert result.phone_flagged
    assert calls.phone_is_flagged(patient)
    assert result.task.kind == "check_phone"
    assert patient.version == version  # a colleague's open edit form can still be saved
    patient.phone = "+4915510000002"
    session.flush()
    assert not calls.phone_is_flagged(patient)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"outcome": None}, "call_outcome", "call_outcome is required"),  # the one thing a call must say
        ({"outcome": "busy"}, "call_outcome", "call_outcome 'busy' is not one of: reached, not_reached"),
        ({"outcome": "reached", "purpose": "chat"}, "call_purpose", "call_purpose 'chat' is not one of"),
        ({"outcome": "reached", "note": "x" * 2001}, "note", "note has 2001 characters; at most 2000"),
        ({"outcome": "not_reached", "due_on": date(2026, 12, 17)}, "due_on", "2026-12-17 lies in the past"),
    ],
)
def test_record_call__bad_input_is_refused_and_changes_nothing(session, patient, staff, values, field, message):
    outcome = values.pop("outcome")
    with pytest.raises(ValidationError, match=message) as caught:
        record(session, patient, staff, outcome, **values)
    assert caught.value.field == field
    assert caught.value.code
    assert session.scalar(select(func.count()).select_from(PatientCall)) == 0
    assert session.scalar(select(func.count()).select_from(FollowUpTask)) == 0


def test_record_call__the_note_stays_out_of_audit_and_events(session, patient, staff):
    record(session, patient, staff, "not_reached", note=NOTE)
    session.flush()
    audits = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(patient.id))).all()
    assert {a.action for a in audits} >= {"patient_call.recorded", "followup_task.created"}
    events = session.scalars(select(DomainEvent).where(DomainEvent.aggregate_id == str(patient.id))).all()
    assert {e.event_type for e in events} == {"patient_call.recorded", "followup_task.created"}
    for row in [*(a.details for a in audits), *(e.payload for e in events)]:
        assert "Januar" not in str(row)
    assert calls.calls_of(session, patient_id=patient.id)[0].note == NOTE


def test_record_call__events_fit_their_schemas(session, patient, staff):
    from core.events import relay

    record(session, patient, staff, "wrong_number")
    session.flush()
    events = session.scalars(select(DomainEvent).where(DomainEvent.aggregate_id == str(patient.id))).all()
    assert {e.event_type for e in events} == {"patient_call.recorded", "patient.phone_flagged_wrong",
                                              "followup_task.created"}  # fmt: skip
    for event in events:
        session.refresh(event)  # occurred_at comes from the database
        assert relay.problems(relay.envelope(event)) == [], event.event_type


def test_erase__removes_call_and_task_notes_the_phone_flag_and_closes_open_tasks(session, patient, staff):
    record(session, patient, staff, "wrong_number", note=NOTE)
    privacy.erase(session, patient_id=patient.id, actor="admin@example.org", reason="Art. 17", now=FRIDAY_17)
    session.flush()
    assert session.scalars(select(PatientCall.note)).all() == [None]
    assert patient.wrong_phone is None
    assert tasks.due_tasks(session, today=date(2027, 1, 1)) == []
    with pytest.raises(ValidationError, match="was erased"):
        record(session, patient, staff, "reached")
