"""The follow-up job on real PostgreSQL: reminder mail, phone call in a free slot, attempts, expiry."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.communication import followup
from core.communication.calls import record_outcome
from core.communication.models import CallStatus, Email, PhoneCall
from core.config import load_settings
from core.matching import service
from core.matching.models import InquiryStatus, ItemOutcome
from core.operations import registry
from core.therapists.models import Therapist
from tests.support.matching import NOW, STAFF, practice, searching_patient, sent, therapist

BERLIN = ZoneInfo("Europe/Berlin")
SENT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}


def run(session, now, **kwargs):
    return followup.run(session, now=now, **kwargs)


def sent_inquiry(session, name="Kraus", patients=1, **therapist_values):
    searches = [searching_patient(session, f"Beispiel{name}{i}") for i in range(patients)]
    return sent(session, therapist(session, name, phone_hours=MON_FRI_9_10, **therapist_values), searches,
                now=SENT_AT)  # fmt: skip


def calls_of(session, inquiry):
    return session.scalars(select(PhoneCall).where(PhoneCall.inquiry_id == inquiry.id).order_by(PhoneCall.id)).all()


def test_follow_up__waits_until_the_reminder_is_due(session):
    inquiry = sent_inquiry(session)
    counts = run(session, SENT_AT + timedelta(days=6))
    assert (counts["waiting"], counts["reminded"], inquiry.status) == (1, 0, InquiryStatus.SENT)


def test_follow_up__queues_the_reminder_mail_after_the_set_days(session):
    inquiry = sent_inquiry(session)
    now = SENT_AT + timedelta(days=7)
    counts = run(session, now)
    [mail] = session.scalars(select(Email).where(Email.inquiry_id == inquiry.id, Email.template == "reminder")).all()
    assert counts["reminded"] == 1
    assert (inquiry.status, inquiry.reminded_at) == (InquiryStatus.REMINDED, now)
    assert mail.to_address == session.get(Therapist, inquiry.therapist_id).email
    assert mail.status.value == "queued"
    # the next run does not remind twice
    assert run(session, now + timedelta(hours=1))["reminded"] == 0


def test_follow_up__reminder_days_are_a_setting(session):
    inquiry = sent_inquiry(session)
    run(session, SENT_AT + timedelta(days=2), settings=load_settings(followup_reminder_days=2))
    assert inquiry.status == InquiryStatus.REMINDED


def test_follow_up__schedules_a_call_after_the_reminder_inside_phone_hours(session):
    inquiry = sent_inquiry(session)
    run(session, SENT_AT + timedelta(days=7))  # reminder on Tue 8 Dec
    now = datetime(2026, 12, 15, 10, 30, tzinfo=UTC)  # Tue 15 Dec, 11:30 in Berlin: after today's hours
    counts = run(session, now)
    [call] = calls_of(session, inquiry)
    assert counts["calls_scheduled"] == 1
    assert (inquiry.status, inquiry.call_scheduled_at) == (InquiryStatus.CALL_SCHEDULED, now)
    assert call.scheduled_for.astimezone(BERLIN) == datetime(2026, 12, 16, 9, 0, tzinfo=BERLIN)
    assert (call.attempt, call.status) == (1, CallStatus.SCHEDULED)


def test_follow_up__calls_do_not_share_a_slot(session):
    first, second = sent_inquiry(session, "Kraus"), sent_inquiry(session, "Lorenz")
    for inquiry in (first, second):
        inquiry.status, inquiry.reminded_at = InquiryStatus.REMINDED, SENT_AT
    run(session, datetime(2026, 12, 24, 14, 0, tzinfo=UTC))  # Christmas Eve afternoon
    slots = [calls_of(session, inquiry)[0].scheduled_for.astimezone(BERLIN) for inquiry in (first, second)]
    # 25/26 Dec are holidays, then the weekend: Monday 28 Dec, one after the other
    assert slots == [datetime(2026, 12, 28, 9, 0, tzinfo=BERLIN), datetime(2026, 12, 28, 9, 5, tzinfo=BERLIN)]


def test_follow_up__calls_a_practice_without_email_at_once(session):
    phone_only = practice(session, "Praxis ohne Mail", contact_channel="phone")
    phone_only.email_normalized = None
    search = searching_patient(session, "Telefon")
    inquiry = sent(session, therapist(session, "Ohnemail", practice_row=phone_only), [search],
                   status=InquiryStatus.APPROVED)  # fmt: skip
    counts = run(session, NOW)
    assert counts["calls_scheduled"] == 1
    assert inquiry.status == InquiryStatus.CALL_SCHEDULED  # the approved inquiry went straight to the phone


def test_follow_up__expires_after_the_last_unanswered_call(session):
    inquiry = sent_inquiry(session, patients=2)
    inquiry.status, inquiry.reminded_at = InquiryStatus.REMINDED, SENT_AT
    now = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
    for attempt in (1, 2, 3):
        counts = run(session, now)
        assert counts["calls_scheduled"] == 1, attempt
        call = calls_of(session, inquiry)[-1]
        assert call.attempt == attempt
        follow = record_outcome(session, call_id=call.id, outcome="not_reached", actor=STAFF,
                                now=call.scheduled_for + timedelta(minutes=3))  # fmt: skip
        if attempt < 3:  # the call page schedules the next attempt itself
            assert follow["next_call_id"] is not None
            session.get(PhoneCall, follow["next_call_id"]).status = CallStatus.CANCELLED  # let the job do it
        now = call.scheduled_for + timedelta(hours=1)
    assert follow["expired"] is True
    assert inquiry.status == InquiryStatus.EXPIRED
    assert [item.outcome for item in inquiry.items] == [ItemOutcome.NO_ANSWER, ItemOutcome.NO_ANSWER]


def test_follow_up__job_expires_when_attempts_are_used_up(session):
    inquiry = sent_inquiry(session)
    inquiry.status = InquiryStatus.CALL_SCHEDULED
    for attempt in (1, 2, 3):
        session.add(PhoneCall(inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, attempt=attempt,
                              scheduled_for=SENT_AT + timedelta(days=attempt), status=CallStatus.FAILED,
                              outcome="not_reached"))  # fmt: skip
    session.flush()
    counts = run(session, SENT_AT + timedelta(days=20))
    assert counts["expired"] == 1
    assert (inquiry.status, inquiry.items[0].outcome) == (InquiryStatus.EXPIRED, ItemOutcome.NO_ANSWER)
    assert inquiry.items[0].answer_source.value == "phone"


def test_follow_up__wrong_number_stops_the_calls_and_flags_the_therapist(session):
    inquiry = sent_inquiry(session)
    inquiry.status, inquiry.reminded_at = InquiryStatus.REMINDED, SENT_AT
    run(session, SENT_AT + timedelta(days=7))
    [call] = calls_of(session, inquiry)
    record_outcome(session, call_id=call.id, outcome="wrong_number", actor=STAFF, now=call.scheduled_for)
    counts = run(session, call.scheduled_for + timedelta(days=1))
    therapist_row = session.get(Therapist, inquiry.therapist_id)
    assert (counts["blocked"], counts["calls_scheduled"]) == (1, 0)
    assert "Telefonnummer falsch" in therapist_row.notes
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "therapist.wrong_number")) is not None


def test_follow_up__answered_items_leave_the_ladder(session):
    inquiry = sent_inquiry(session)
    service.record_answer(session, item_id=inquiry.items[0].id, outcome="declined_capacity", actor=STAFF,
                          now=SENT_AT + timedelta(days=1))  # fmt: skip
    counts = run(session, SENT_AT + timedelta(days=30))
    assert (counts["claimed"], counts["reminded"]) == (0, 0)


def test_follow_up__is_registered_with_the_scheduler():
    job = registry.get("follow_up")
    assert job.function() is followup.scheduled_run
    assert job.cron == "15 8-17 * * 1-5"
