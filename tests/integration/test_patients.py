"""Patient services on real PostgreSQL: validation, consent, search lifecycle, locking, duplicates, audit."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.errors import ConcurrentEdit, IllegalTransition, ValidationError
from core.events.models import DomainEvent
from core.patients import service as patients
from core.patients.models import Consent, Patient, PatientStatus, Search, SearchStatus

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
STAFF = "anna@example.org"
WINDOWS = [{"weekday": d, "start": "08:00", "end": "13:00"} for d in range(5)]  # 25 h a week


def valid(**changes):
    data = {
        "first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1991, 5, 17),
        "email": "lea.beispiel@example.org", "phone": "030 1234567", "street": "Lindenstraße 4",
        "postcode": "10115", "city": "Berlin", "insurance_type": "statutory", "insurance_name": "AOK",
        "symptoms": ["Ängste", "Schlafstörungen"], "diagnoses": ["f41.1"], "availability": WINDOWS,
        "max_distance_km": 15, "transport_mode": "transit", "therapist_gender_wish": "any",
        "procedure_wishes": ["VT"], "setting_wish": "individual", "languages": ["de"],
    }  # fmt: skip
    data.update(changes)
    return data


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def nothing_written(session) -> bool:
    return count(session, Patient) == 0 and count(session, AuditEvent) == 0 and count(session, DomainEvent) == 0


@pytest.fixture
def lea(session):
    return patients.create(session, data=valid(), actor=STAFF, today=TODAY)


def consented(session, patient):
    for kind in ("health_data", "share_profile"):
        patients.record_consent(session, patient_id=patient.id, kind=kind, text_version="2026-01", actor=STAFF, now=NOW)


def test_create__stores_normalised_values_and_locates_at_the_postcode(session, lea):
    assert lea.reference.startswith("P-")
    assert len(lea.reference) == 8
    assert (lea.status, lea.phone, lea.diagnoses, lea.weekly_hours) == (
        PatientStatus.NEW,
        "+49301234567",
        ["F41.1"],
        25,
    )
    assert lea.location_precision.value == "postcode"
    assert round(lea.latitude, 2) == 52.53


def test_create__audit_names_fields_but_never_health_values(session, lea):
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.created")).one()
    assert "diagnoses" in event.details["fields"]
    assert "F41.1" not in str(event.details)
    assert "Ängste" not in str(event.details)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"postcode": "1234"}, "postcode", "PLZ '1234' must have 5 digits, e.g. 10115"),
        ({"postcode": "00000"}, "postcode", "PLZ '00000' does not exist in Germany"),
        ({"postcode": "1011a"}, "postcode", "must have 5 digits"),
        ({"email": "lea@"}, "email", "E-mail 'lea@' is not a valid address, e.g. anna.schmidt@example.org"),
        ({"email": "lea..b@example.org"}, "email", "is not a valid address"),
        ({"phone": "12"}, "phone", "Phone '12' is not a possible number"),
        ({"phone": "bitte anrufen"}, "phone", "is not a phone number"),
        ({"birth_date": date(2027, 1, 1)}, "birth_date", "Birth date 01.01.2027 lies in the future"),
        ({"birth_date": date(1900, 1, 1)}, "birth_date", "means an age over 110"),
        ({"birth_date": "17.05.1991"}, "birth_date", "is not a date, e.g. 1990-04-17"),
        ({"birth_date": None}, "birth_date", "Birth date is required, e.g. 1990-04-17"),
        ({"diagnoses": ["G40.1"]}, "diagnoses", "Diagnosis 'G40.1' is not an ICD-10 code of chapter V"),
        ({"diagnoses": ["F4"]}, "diagnoses", "use F00-F99 with an optional subcode, e.g. F32.1"),
        ({"first_name": "  "}, "first_name", "first_name is required"),
        ({"last_name": "x" * 101}, "last_name", "has 101 characters; at most 100"),
        ({"gender": "other"}, "gender", "gender 'other' is not one of: female, male, diverse, unknown"),
        ({"insurance_type": "gkv"}, "insurance_type", "is not one of: statutory, private, subsidy, self_pay"),
        ({"symptoms": ["Kopfweh"]}, "symptoms", "Unknown symptom(s) ['Kopfweh']"),
        ({"procedure_wishes": ["Gestalt"]}, "procedure_wishes", "use VT, TP, AP or ST"),
        ({"languages": ["deutsch"]}, "languages", "Unknown language code(s) ['deutsch']"),
        ({"max_distance_km": 0}, "max_distance_km", "must be between 1 and 200 km"),
        ({"max_distance_km": "weit"}, "max_distance_km", "is not a number of kilometres"),
        ({"max_travel_minutes": 500}, "max_travel_minutes", "between 5 and 240"),
        ({"transport_mode": "boat"}, "transport_mode", "is not one of: car, transit, bike, foot"),
        ({"availability": [{"weekday": 0, "start": "10:00", "end": "09:00"}]}, "availability", "ends before it starts"),
        ({"availability": [{"weekday": 0, "start": "08:00", "end": "12:00"},
                           {"weekday": 0, "start": "09:00", "end": "10:00"}]}, "availability", "overlap"),
        ({"previous_therapy_end": date(2030, 1, 1)}, "previous_therapy_end", "lies in the future"),
        ({"contact_language": "fr"}, "contact_language", "Contact language 'fr' is not available"),
    ],
)  # fmt: skip
def test_create__bad_input_names_the_field_and_writes_nothing(session, changes, field, message):
    with pytest.raises(ValidationError) as error:
        patients.create(session, data=valid(**changes), actor=STAFF, today=TODAY)
    assert message in error.value.errors[field]
    assert nothing_written(session)


def test_create__reports_every_bad_field_at_once(session):
    with pytest.raises(ValidationError) as error:
        patients.create(session, data=valid(postcode="1234", email="x@y"), actor=STAFF, today=TODAY)
    assert set(error.value.errors) == {"postcode", "email"}


def test_create__missing_required_field(session):
    data = valid()
    del data["birth_date"]
    with pytest.raises(ValidationError) as error:
        patients.create(session, data=data, actor=STAFF, today=TODAY)
    assert error.value.errors == {"birth_date": "birth_date is required"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"email": "other@example.org", "phone": None, "postcode": "10115"}, "name_postcode"),  # same name + PLZ
        ({"email": None, "phone": None, "postcode": "80331"}, "name_birth_date"),  # same name + birth date
        ({"first_name": "Mara", "phone": None, "postcode": "80331"}, "email"),  # same e-mail, other person name
        ({"first_name": "Mara", "email": None, "postcode": "80331"}, "phone"),  # same phone
    ],
)
def test_create__possible_duplicate_shows_the_existing_record(session, lea, changes, reason):
    with pytest.raises(patients.PossibleDuplicate) as error:
        patients.create(session, data=valid(**changes), actor=STAFF, today=TODAY)
    (candidate,) = error.value.candidates
    assert candidate.reference == lea.reference
    assert reason in candidate.reasons
    assert count(session, Patient) == 1
    confirmed = patients.create(session, data=valid(**changes), actor=STAFF, today=TODAY, allow_duplicate=True)
    assert confirmed.id != lea.id


def test_update__second_save_of_a_stale_form_is_refused_naming_the_fields(session, lea):
    form_version, original = lea.version, patients.form_values(lea)
    patients.update(
        session,
        patient_id=lea.id,
        version=form_version,
        original=original,
        changes={"email": "neu@example.org", "city": "Berlin-Mitte"},
        actor="ben@example.org",
        today=TODAY,
    )
    with pytest.raises(ConcurrentEdit) as error:
        patients.update(
            session,
            patient_id=lea.id,
            version=form_version,
            original=original,
            changes={"phone": "030 7654321"},
            actor=STAFF,
            today=TODAY,
        )
    assert error.value.fields == ["email", "city"]
    assert "changed meanwhile: email, city" in str(error.value)
    assert session.get(Patient, lea.id).phone == "+49301234567"  # nothing overwritten


def test_update__bad_value_keeps_the_record(session, lea):
    with pytest.raises(ValidationError, match="PLZ '99999' does not exist"):
        patients.update(
            session,
            patient_id=lea.id,
            version=lea.version,
            original=patients.form_values(lea),
            changes={"postcode": "99999", "city": "Nirgendwo"},
            actor=STAFF,
            today=TODAY,
        )
    assert (lea.postcode, lea.city) == ("10115", "Berlin")


def test_consent__bad_input(session, lea):
    with pytest.raises(ValidationError, match="Consent kind 'marketing' is unknown; use health_data or share_profile"):
        patients.record_consent(session, patient_id=lea.id, kind="marketing", text_version="1", actor=STAFF, now=NOW)
    with pytest.raises(ValidationError, match=r"consent text version is required, e\.g\. 2026-01"):
        patients.record_consent(session, patient_id=lea.id, kind="health_data", text_version=" ", actor=STAFF, now=NOW)
    assert count(session, Consent) == 0


def test_start_search__lists_every_unmet_requirement_and_writes_nothing(session):
    patient = patients.create(
        session, data=valid(insurance_type=None, availability=WINDOWS[:2]), actor=STAFF, today=TODAY
    )
    with pytest.raises(patients.PrequalificationFailed) as error:
        patients.start_search(session, patient_id=patient.id, actor=STAFF, today=TODAY)
    assert [r.code for r in error.value.requirements] == [
        "consent_health",
        "consent_share",
        "insurance",
        "availability",
    ]
    assert count(session, Search) == 0
    assert patient.status == PatientStatus.NEW


def test_search_lifecycle__start_pause_reactivate_cancel(session, lea):
    consented(session, lea)
    search = patients.start_search(session, patient_id=lea.id, actor=STAFF, today=TODAY)
    assert (search.status, lea.status, search.started_on) == (SearchStatus.ACTIVE, PatientStatus.SEARCHING, TODAY)
    with pytest.raises(ValidationError, match="already has an open search"):
        patients.start_search(session, patient_id=lea.id, actor=STAFF, today=TODAY)
    with pytest.raises(ValidationError, match="must lie after today"):
        patients.pause_search(session, search_id=search.id, until=TODAY, reason=None, actor=STAFF, today=TODAY)
    patients.pause_search(session, search_id=search.id, until=TODAY + timedelta(days=14), reason="Urlaub",
                          actor=STAFF, today=TODAY)  # fmt: skip
    # the job on the day before does nothing, on the until-date it reactivates
    assert patients.reactivate_due_searches(session, now=NOW + timedelta(days=13)) == {"reactivated": 0}
    assert patients.reactivate_due_searches(session, now=NOW + timedelta(days=14)) == {"reactivated": 1}
    assert (search.status, search.paused_until) == (SearchStatus.ACTIVE, None)
    with pytest.raises(ValidationError, match="A reason is required to cancel"):
        patients.cancel_search(session, search_id=search.id, reason="", actor=STAFF, today=TODAY)
    patients.cancel_search(session, search_id=search.id, reason="hat selbst einen Platz gefunden", actor=STAFF,
                           today=TODAY)  # fmt: skip
    assert (search.status, lea.status) == (SearchStatus.CANCELLED, PatientStatus.SEARCH_CANCELLED)
    with pytest.raises(IllegalTransition, match="A search in state 'cancelled' cannot become 'active'"):
        patients.resume_search(session, search_id=search.id, actor=STAFF)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "search")).all()
    assert actions == ["search.started", "search.paused", "search.active", "search.cancelled"]


def test_open_record__audits_the_read(session, lea):
    patients.open_record(session, patient_id=lea.id, actor=STAFF)
    assert session.scalar(select(func.count()).where(AuditEvent.action == "patient.viewed")) == 1
