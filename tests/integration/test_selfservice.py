"""Self-service links: "Mein Stand" for patients, "Kapazität melden" for therapists; tampered, expired, reused."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.communication import answer_page, calls, links, outbox, selfservice_links
from core.communication import selfservice_capacity as capacity
from core.communication import selfservice_patient as mein_stand
from core.communication.selfservice_models import CapacityReport
from core.config import get_settings
from core.errors import ValidationError
from core.events.models import DomainEvent
from core.patients.models import Patient, PatientStatus, SearchStatus
from tests.support.matching import NOW, TODAY, searching_patient, sent, therapist

TOMORROW = NOW + timedelta(days=1)


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def _signed(record_id: int, *, days: int, purpose: bytes = links.PURPOSE) -> str:
    secret, expires_at = get_settings().resolved_secret_key(), NOW + timedelta(days=days)
    return links.make_token(record_id, secret=secret, expires_at=expires_at, purpose=purpose)


def _patient_token(patient_id: int, *, days: int = 42) -> str:
    return _signed(patient_id, days=days, purpose=selfservice_links.PATIENT_PURPOSE)


def _therapist_token(therapist_id: int, *, days: int = 42) -> str:
    return _signed(therapist_id, days=days, purpose=selfservice_links.THERAPIST_PURPOSE)


def _writes(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (AuditEvent, DomainEvent, CapacityReport))


@pytest.fixture
def lea(session):
    search = searching_patient(session, "Beispiel", email="lea@example.org", phone="+493012345678")
    return session.get(Patient, search.patient_id)


# --- Mein Stand ------------------------------------------------------------------------------------


def test_status_mail__carries_the_patients_own_link(session, lea):
    context = outbox.patient_context(session, patient_id=lea.id, now=NOW)
    assert "/mein_stand?token=" in context["status_url"]
    assert selfservice_links.read_patient(_token(context["status_url"]), now=NOW) == lea.id


def test_mein_stand__shows_the_search_and_audits_the_view(session, lea):
    view = mein_stand.load(session, token=_patient_token(lea.id), now=NOW)
    assert (view.reference, view.search_status, view.started_on) == (
        lea.reference,
        SearchStatus.ACTIVE,
        date(2026, 6, 1),
    )
    assert view.waiting_days == (TODAY - date(2026, 6, 1)).days
    assert view.can_change
    read = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "read.patient.self_service").order_by(AuditEvent.id.desc())
    )
    assert read is not None
    assert read.actor == f"link:{lea.reference}"


def test_mein_stand__updates_contact_and_availability_validated_and_audited(session, lea):
    windows = [{"weekday": 0, "start": "08:00", "end": "18:00"}, {"weekday": 2, "start": "08:00", "end": "20:00"}]
    view = mein_stand.update_contact(session, token=_patient_token(lea.id), now=NOW,
                                     changes={"phone": "030 9876543", "availability": windows})  # fmt: skip
    assert view.changed
    session.refresh(lea)
    assert lea.phone == "+49309876543"
    assert lea.weekly_hours == 22
    change = session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.updated"))
    assert change.actor == f"link:{lea.reference}"
    with pytest.raises(ValidationError) as error:
        mein_stand.update_contact(session, token=_patient_token(lea.id), now=NOW, changes={"email": "keine-adresse"})
    assert error.value.field == "email"
    with pytest.raises(ValidationError, match="cannot be changed here"):
        mein_stand.update_contact(session, token=_patient_token(lea.id), now=NOW, changes={"last_name": "Anders"})


def test_mein_stand__pauses_resumes_and_ends_the_search(session, lea):
    token = _patient_token(lea.id)
    paused = mein_stand.pause(session, token=token, until=date(2027, 1, 10), now=NOW)
    assert (paused.search_status, paused.paused_until) == (SearchStatus.PAUSED, date(2027, 1, 10))
    assert mein_stand.resume(session, token=token, now=NOW).search_status == SearchStatus.ACTIVE
    ended = mein_stand.end_search(session, token=token, reason="found_elsewhere", now=NOW)
    assert ended.search_status == SearchStatus.CANCELLED
    assert not ended.can_change
    session.refresh(lea)
    assert lea.status == PatientStatus.SEARCH_CANCELLED


def test_mein_stand__a_link_reused_after_the_end_shows_the_end_and_writes_nothing(session, lea):
    token = _patient_token(lea.id)
    mein_stand.end_search(session, token=token, reason="not_needed", now=NOW)
    before = _writes(session)
    again = mein_stand.end_search(session, token=token, reason="other", now=TOMORROW)
    paused = mein_stand.pause(session, token=token, until=date(2027, 1, 10), now=TOMORROW)
    changed = mein_stand.update_contact(session, token=token, now=TOMORROW, changes={"phone": "030 1111111"})
    assert [v.changed for v in (again, paused, changed)] == [False, False, False]
    assert again.search_status == SearchStatus.CANCELLED
    assert _writes(session) == before


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda pid: _patient_token(pid)[:-2] + "xx", "invalid"),  # signature changed
        (lambda pid: _patient_token(pid).replace(f"{pid}.", f"{pid + 1}.", 1), "invalid"),  # someone else's number
        (lambda pid: _patient_token(pid, days=-1), "expired"),  # expired yesterday
        (lambda pid: _therapist_token(pid), "invalid"),  # a therapist's link with the same number
        (lambda pid: _signed(pid, days=9), "invalid"),  # an answer link with the same number
        (lambda pid: None, "invalid"),  # no token in the address
    ],
)
def test_mein_stand__a_tampered_or_expired_link_says_so_and_writes_nothing(session, lea, make, reason):
    before = _writes(session)
    with pytest.raises(links.LinkError) as error:
        mein_stand.end_search(session, token=make(lea.id), reason="other", now=NOW)
    assert error.value.reason == reason
    with pytest.raises(links.LinkError):
        mein_stand.load(session, token=make(lea.id), now=NOW)
    assert _writes(session) == before
    session.refresh(lea)
    assert lea.status == PatientStatus.SEARCHING


def test_mein_stand__an_erased_patients_link_shows_nothing(session, lea):
    lea.erased_at = NOW
    session.flush()
    with pytest.raises(links.LinkError):
        mein_stand.load(session, token=_patient_token(lea.id), now=NOW)


# --- Kapazität melden ------------------------------------------------------------------------------


def test_inquiry_mail__carries_the_therapists_capacity_link(session):
    doctor = therapist(session, "Kraus")
    inquiry = sent(session, doctor, [searching_patient(session)])
    context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=NOW)
    mail = outbox.enqueue(session, template="inquiry", to_address=context["to_address"], context=context, now=NOW)
    assert context["capacity_url"] in mail.body_text
    assert selfservice_links.read_therapist(_token(context["capacity_url"]), now=NOW) == doctor.id


def test_capacity__a_report_refreshes_the_dates_and_preferences_and_is_audited(session):
    doctor = therapist(session, "Kraus", accepting_patients=False, accepting_confirmed_on=date(2025, 1, 1),
                       last_verified_on=date(2025, 1, 1))  # fmt: skip
    view = capacity.report(session, token=_therapist_token(doctor.id), now=NOW, accepting=True,
                           available_from=date(2027, 1, 4), hours_per_week=3, pref_age_min=18, pref_age_max=65,
                           pref_patient_gender="any", note="Dienstags bevorzugt")  # fmt: skip
    assert view.just_recorded
    session.refresh(doctor)
    assert (doctor.accepting_patients, doctor.accepting_confirmed_on, doctor.last_verified_on) == (True, TODAY, TODAY)
    assert (doctor.pref_age_min, doctor.pref_age_max) == (18, 65)
    assert view.last_report["available_from"] == date(2027, 1, 4)
    audited = session.scalar(select(AuditEvent).where(AuditEvent.action == "therapist.capacity_reported"))
    assert audited.actor == f"link:capacity:{doctor.id}"


def test_capacity__the_same_report_twice_is_stored_once_and_a_later_change_again(session):
    doctor = therapist(session, "Kraus")
    token = _therapist_token(doctor.id)
    capacity.report(session, token=token, now=NOW, accepting=True, hours_per_week=2)
    before = _writes(session)
    again = capacity.report(session, token=token, now=NOW + timedelta(minutes=1), accepting=True, hours_per_week=2)
    assert not again.just_recorded
    assert _writes(session) == before
    changed = capacity.report(session, token=token, now=TOMORROW, accepting=False)
    assert changed.just_recorded
    assert changed.accepting is False
    assert session.scalar(select(func.count()).select_from(CapacityReport)) == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"accepting": True, "available_from": date(2026, 11, 1)}, "available_from"),  # in the past
        ({"accepting": True, "hours_per_week": 90}, "hours_per_week"),
        ({"accepting": True, "pref_age_min": 60, "pref_age_max": 20}, "pref_age_min"),  # reversed
        ({"accepting": True, "pref_patient_gender": "divers"}, "pref_patient_gender"),
        ({"accepting": None}, "accepting"),  # no answer given
    ],
)
def test_capacity__refuses_bad_input_and_writes_nothing(session, values, field):
    doctor = therapist(session, "Kraus")
    before = _writes(session)
    with pytest.raises(ValidationError) as error:
        capacity.report(session, token=_therapist_token(doctor.id), now=NOW, **values)
    assert error.value.field == field
    assert _writes(session) == before


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tid: _therapist_token(tid)[:-2] + "xx", "invalid"),
        (lambda tid: _therapist_token(tid).replace(f"{tid}.", f"{tid + 1}.", 1), "invalid"),
        (lambda tid: _therapist_token(tid, days=-1), "expired"),
        (lambda tid: _patient_token(tid), "invalid"),  # a patient's link with the same number
    ],
)
def test_capacity__a_tampered_or_expired_link_says_so_and_writes_nothing(session, make, reason):
    doctor = therapist(session, "Kraus", accepting_patients=None)
    before = _writes(session)
    with pytest.raises(links.LinkError) as error:
        capacity.report(session, token=make(doctor.id), now=NOW, accepting=True)
    assert error.value.reason == reason
    assert _writes(session) == before
    session.refresh(doctor)
    assert doctor.accepting_patients is None


# --- answers and calls refresh the same dates ------------------------------------------------------


def test_answer__no_capacity_through_the_link_refreshes_the_therapists_dates(session):
    doctor = therapist(session, "Kraus", accepting_patients=True, accepting_confirmed_on=date(2025, 1, 1))
    inquiry = sent(session, doctor, [searching_patient(session)])
    token = links.make_token(inquiry.items[0].id, secret=get_settings().resolved_secret_key(),
                             expires_at=NOW + timedelta(days=42))  # fmt: skip
    answer_page.submit(session, token=token, outcome="declined_capacity", now=NOW)
    session.refresh(doctor)
    assert (doctor.accepting_patients, doctor.accepting_confirmed_on, doctor.last_verified_on) == (False, TODAY, TODAY)


def test_call__an_offer_by_phone_refreshes_the_therapists_dates(session):
    doctor = therapist(session, "Kraus", accepting_patients=None)
    inquiry = sent(session, doctor, [searching_patient(session)])
    call = calls.schedule_call(session, inquiry=inquiry, after=NOW, attempt=1, actor="staff")
    calls.record_outcome(session, call_id=call.id, outcome="reached", actor="anna@example.org", now=NOW,
                         answers={inquiry.items[0].id: "accepted"})  # fmt: skip
    session.refresh(doctor)
    assert (doctor.accepting_patients, doctor.accepting_confirmed_on, doctor.last_verified_on) == (True, TODAY, TODAY)
