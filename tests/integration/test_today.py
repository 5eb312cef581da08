"""The "Heute" work queue on real PostgreSQL: every count comes from real rows in their real states."""

from datetime import UTC, date, datetime

from core.communication import calls
from core.communication.models import Email, EmailStatus
from core.matching import service as matching
from core.matching.models import InquiryStatus
from core.operations import today as heute
from core.patients import service as patients
from core.patients.models import Patient, PatientStatus
from core.therapists import service as therapists
from tests.support.matching import STAFF, propose, result_for, searching_patient, sent, therapist

MONDAY_8 = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin: before the phone hours
MONDAY_9_02 = datetime(2026, 12, 14, 8, 2, tzinfo=UTC)  # 09:02 in Berlin: inside them
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


def new_patient(session, last_name: str, **values) -> Patient:
    patient = Patient(
        reference=f"P-H{last_name[:5].upper()}",
        status=PatientStatus.NEW,
        first_name="Lea",
        last_name=last_name,
        gender="female",
        birth_date=date(1990, 4, 2),
        postcode="10115",
        insurance_type=values.pop("insurance_type", "statutory"),
        weekly_hours=values.pop("weekly_hours", 25),
        **values,
    )
    session.add(patient)
    session.flush()
    return patient


def consent(session, patient: Patient, *kinds: str) -> None:
    for kind in kinds:
        patients.record_consent(
            session, patient_id=patient.id, kind=kind, text_version="2026-01", actor=STAFF, now=MONDAY_8
        )


def mail(session, status: EmailStatus, *, needs_review: bool = False) -> Email:
    row = Email(template="inquiry", to_address="praxis@example.org", subject="Anfrage", body_text="Hallo",
                message_id=f"<{status}-{needs_review}-{id(object())}@test>", status=status,
                needs_review=needs_review)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def test_work_queue__an_empty_service_has_nothing_to_do(session):
    queue = heute.work_queue(session, now=MONDAY_8)
    assert queue.nothing_to_do
    assert (queue.proposals, queue.calls_due.count, queue.blocked_searches) == (0, 0, [])


def test_proposals_to_review__counts_unreviewed_proposals_only(session):
    kraus, lorenz = therapist(session, "Kraus"), therapist(session, "Lorenz")
    result = result_for((kraus, [searching_patient(session, "Beispiel")]), (lorenz, [searching_patient(session, "M")]))
    first, _ = matching.store_proposals(session, result=result, run_id="run-1", actor=STAFF, now=MONDAY_8)
    assert heute.proposals_to_review(session) == 2
    matching.approve(session, inquiry_id=first.id, actor=STAFF, now=MONDAY_8)  # reviewed: no longer a proposal
    assert heute.proposals_to_review(session) == 1


def test_calls_due__counts_todays_calls_and_those_callable_in_the_open_phone_hours(session):
    inquiry = sent(session, therapist(session, "Kraus", phone_hours=MON_FRI_9_10), [searching_patient(session)])
    inquiry.status = InquiryStatus.CALL_SCHEDULED
    calls.schedule_call(session, inquiry=inquiry, after=MONDAY_8, attempt=1, actor=STAFF)  # 09:00 today
    later = sent(session, therapist(session, "Lorenz", phone_hours=MON_FRI_9_10), [searching_patient(session, "X")])
    later.status = InquiryStatus.CALL_SCHEDULED
    calls.schedule_call(session, inquiry=later, after=datetime(2026, 12, 15, 7, 0, tzinfo=UTC), attempt=1,
                        actor=STAFF)  # tomorrow: not today's work  # fmt: skip

    before_hours = heute.calls_due(session, now=MONDAY_8)
    in_hours = heute.calls_due(session, now=MONDAY_9_02)

    assert (before_hours.count, before_hours.open_now) == (1, 0)
    assert (in_hours.count, in_hours.open_now) == (1, 1)


def test_answers_to_record__counts_sent_inquiries_with_a_pending_patient(session):
    waiting = sent(session, therapist(session, "Kraus"), [searching_patient(session, "A")])
    answered = sent(session, therapist(session, "Lorenz"), [searching_patient(session, "B")])
    propose(session, therapist(session, "Meier"), [searching_patient(session, "C")])  # not sent yet
    matching.record_answer(
        session, item_id=answered.items[0].id, outcome="declined_capacity", actor=STAFF, now=MONDAY_8
    )
    assert waiting.status == InquiryStatus.SENT
    assert heute.answers_to_record(session) == 1


def test_open_conflicts__counts_a_late_acceptance_until_resolved(session):
    search = searching_patient(session)
    first = sent(session, therapist(session, "Kraus"), [search])
    second = sent(session, therapist(session, "Lorenz"), [search])
    matching.record_answer(session, item_id=first.items[0].id, outcome="accepted", actor=STAFF, now=MONDAY_8)
    matching.record_answer(session, item_id=second.items[0].id, outcome="accepted", actor=STAFF, now=MONDAY_8)
    assert heute.open_conflicts(session) == 1
    matching.resolve_conflict(session, item_id=second.items[0].id, action="close", other_search_id=None,
                              actor=STAFF, now=MONDAY_8)  # fmt: skip
    assert heute.open_conflicts(session) == 0


def test_bounced_mail__counts_mail_that_could_not_be_delivered(session):
    mail(session, EmailStatus.DEAD)
    mail(session, EmailStatus.SENT)
    mail(session, EmailStatus.FAILED)  # will be retried: not yet a bounce
    assert heute.bounced_mail(session) == 1


def test_mail_in_doubt__counts_mail_flagged_for_review(session):
    mail(session, EmailStatus.SENDING, needs_review=True)
    mail(session, EmailStatus.SENDING)
    assert heute.mail_in_doubt(session) == 1


def test_blocked_searches__name_every_unmet_requirement_of_new_patients(session):
    ready = new_patient(session, "Bereit")
    consent(session, ready, "health_data", "share_profile")
    missing = new_patient(session, "Offen", insurance_type=None, weekly_hours=5)
    consent(session, missing, "health_data")
    recent = new_patient(session, "Kurz", previous_therapy_end=date(2026, 1, 5))
    consent(session, recent, "health_data", "share_profile")
    searching_patient(session, "Sucht")  # already searching: not a blocked start

    blocked = {b.reference: b.codes for b in heute.blocked_searches(session, today=date(2026, 12, 14))}

    assert blocked == {
        missing.reference: ("consent_share", "insurance", "availability"),
        recent.reference: ("two_year_rule",),
    }


def test_blocks_ending__lists_blocks_ending_within_a_week(session):
    soon, later, open_ended = therapist(session, "Bald"), therapist(session, "Spaeter"), therapist(session, "Offen")
    today = date(2026, 12, 14)
    for row, until in ((soon, date(2026, 12, 18)), (later, date(2027, 1, 31)), (open_ended, None)):
        session.refresh(row)  # as a page would load it (the enum, not the string default)
        therapists.change_status(session, therapist_id=row.id, action="block", reason="Urlaub", actor=STAFF,
                                 today=today, until=until)  # fmt: skip

    ending = heute.blocks_ending(session, today=today)

    assert [(b.therapist_id, b.until) for b in ending] == [(soon.id, date(2026, 12, 18))]


def test_work_queue__gathers_every_count(session):
    propose(session, therapist(session, "Kraus"), [searching_patient(session)])
    mail(session, EmailStatus.DEAD)
    new_patient(session, "Offen")
    queue = heute.work_queue(session, now=MONDAY_8)
    assert not queue.nothing_to_do
    assert (queue.proposals, queue.bounced_mail, len(queue.blocked_searches)) == (1, 1, 1)


def test_tasks_due__counts_todays_and_overdue_follow_ups_and_puts_them_on_the_queue(session):
    from core.patients import calls as patient_calls
    from core.patients import tasks

    friday = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)  # the Friday before MONDAY_8
    called = new_patient(session, "Rueckruf", phone="+4915510000009")
    patient_calls.record_call(session, patient_id=called.id, purpose="status", outcome="not_reached",
                              actor="anna@example.org", now=friday)  # fmt: skip
    later = new_patient(session, "Spaeter")
    tasks.create_task(session, patient_id=later.id, kind="check_status", due_on=date(2026, 12, 15),
                      actor="anna@example.org", now=friday)  # fmt: skip
    overdue = tasks.create_task(session, patient_id=later.id, kind="other", due_on=date(2026, 12, 11),
                                actor="anna@example.org", now=friday)  # fmt: skip

    due = heute.tasks_due(session, today=date(2026, 12, 14))

    assert (due.count, due.overdue) == (2, 1)
    assert [(row.reference, row.kind, row.overdue) for row in due.rows] == [
        (later.reference, "other", True), (called.reference, "call_back", False)]  # fmt: skip
    queue = heute.work_queue(session, now=MONDAY_8)
    assert queue.tasks_due.count == 2
    assert not queue.nothing_to_do
    tasks.complete_task(session, task_id=overdue.id, actor="anna@example.org", now=MONDAY_8)
    assert heute.tasks_due(session, today=date(2026, 12, 14)).count == 1
