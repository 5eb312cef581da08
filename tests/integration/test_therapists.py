"""Therapist services on real PostgreSQL: validation, status machine, auto-unblock, locking, duplicates, lists."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from core.audit.models import AuditEvent
from core.errors import ConcurrentEdit, IllegalTransition, NotFound, ValidationError
from core.events.models import DomainEvent
from core.operations import registry, runner
from core.therapists import service as therapists
from core.therapists.duplicates import PossibleDuplicate
from core.therapists.models import Practice, Therapist, TherapistStatus
from core.therapists.service import TherapistFilter
from core.therapists.unblocking import unblock_expired

TODAY = date(2026, 11, 26)
STAFF = "anna@example.org"


def valid(**changes):
    data = {
        "title": "Dr.", "first_name": "Mara", "last_name": "Beispiel", "gender": "female",
        "street": "Lindenstraße 4", "postcode": "10115", "city": "Berlin", "phone": "030 1234567",
        "email": "praxis.beispiel@example.org", "website": "www.praxis-beispiel.example.org",
        "procedures": ["VT individual adults", {"procedure": "VT", "setting": "group", "age_group": "adults"}],
        "languages": "de, en", "phone_hours": "Mo-Fr 9-10", "pref_age_min": 18, "pref_age_max": 65,
        "pref_patient_gender": "any", "pref_diagnoses": "F32, F40.1", "statutory_licence": True,
        "accepting_patients": True, "source": "manual", "last_verified_on": date(2026, 11, 1),
    }  # fmt: skip
    data.update(changes)
    return data


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def nothing_written(session) -> bool:
    return all(count(session, model) == 0 for model in (Therapist, Practice, AuditEvent, DomainEvent))


@pytest.fixture
def mara(session):
    return therapists.create(session, data=valid(), actor=STAFF, today=TODAY)


def test_create__stores_normalised_values(session, mara):
    assert (mara.phone, mara.email, mara.website) == (
        "+49301234567",
        "praxis.beispiel@example.org",
        "https://www.praxis-beispiel.example.org",
    )
    assert mara.procedures == [
        {"procedure": "VT", "setting": "individual", "age_group": "adults"},
        {"procedure": "VT", "setting": "group", "age_group": "adults"},
    ]
    assert (mara.languages, mara.pref_diagnoses) == (["de", "en"], ["F32", "F40.1"])
    assert mara.phone_hours == {str(day): [["09:00", "10:00"]] for day in range(5)}
    assert (mara.status, mara.accepting_confirmed_on) == (TherapistStatus.ACTIVE, TODAY)


def test_create__locates_at_the_postcode_centroid(session, mara):
    assert (mara.location_precision.value, mara.location_source) == ("postcode", "postcode_centroid")
    assert (round(mara.latitude, 2), round(mara.longitude, 2)) == (52.53, 13.38)


def test_create__puts_the_therapist_into_a_new_practice_with_an_email_channel(session, mara):
    practice = session.get(Practice, mara.practice_id)
    assert (practice.name, practice.contact_channel.value, practice.email_normalized) == (
        "Praxis Dr. Mara Beispiel",
        "email",
        "praxis.beispiel@example.org",
    )
    assert practice.phone_hours == mara.phone_hours


def test_create__is_audited_with_field_names_and_emits_an_event(session, mara):
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.created")).one()
    assert (event.actor, event.entity_id) == (STAFF, str(mara.id))
    assert {"first_name", "procedures", "pref_diagnoses"} <= set(event.details["fields"])
    assert "F40.1" not in str(event.details)
    assert "Beispiel" not in str(event.details)
    query = select(DomainEvent.event_type).where(DomainEvent.aggregate_type == "therapist").order_by(DomainEvent.id)
    assert session.scalars(query).all() == ["therapist.created", "therapist.practice_changed"]


def test_create__accepting_flag_keeps_a_given_confirmation_date(session):
    therapist = therapists.create(
        session, data=valid(accepting_confirmed_on=date(2026, 10, 1)), actor=STAFF, today=TODAY
    )
    assert therapist.accepting_confirmed_on == date(2026, 10, 1)
    unknown = therapists.create(
        session, data=valid(email=None, phone=None, first_name="Ute", accepting_patients=None), actor=STAFF,
        today=TODAY,
    )  # fmt: skip
    assert unknown.accepting_confirmed_on is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": "  "}, "first_name", "First name is required, e.g. Anna"),  # blank name
        ({"last_name": None}, "last_name", "Last name is required, e.g. Schmidt"),  # missing name
        ({"postcode": "1011"}, "postcode", "PLZ '1011' must have 5 digits, e.g. 10115"),  # short PLZ
        ({"postcode": "00000"}, "postcode", "PLZ '00000' does not exist in Germany"),  # unknown PLZ
        ({"postcode": ""}, "postcode", "PLZ is required, e.g. 10115"),  # no PLZ
        ({"email": "praxis@"}, "email", "E-mail 'praxis@' is not a valid address"),  # broken e-mail
        ({"phone": "12"}, "phone", "Phone '12' is not a possible number"),  # impossible phone
        ({"website": "praxis beispiel.de"}, "website", "is not a web address, e.g. https://www.praxis-beispiel.de"),
        ({"website": "ftp://example.org"}, "website", "is not a web address"),  # wrong scheme
        ({"procedures": []}, "procedures", "Procedures: offer at least one, e.g. VT individual adults"),  # none
        ({"procedures": ["XY individual adults"]}, "procedures", "procedure 'XY' is not one of VT, TP, AP, ST"),
        ({"procedures": ["VT solo adults"]}, "procedures", "setting 'solo' is not one of individual, group"),
        ({"procedures": ["VT individual seniors"]}, "procedures", "age group 'seniors' is not one of adults"),
        # the same offer twice, in another spelling
        ({"procedures": ["VT individual adults", "vt Individual ADULTS"]}, "procedures", "is listed twice"),
        ({"procedures": ["VT"]}, "procedures", "needs procedure, setting and age group"),  # incomplete offer
        ({"languages": "de, deutsch"}, "languages", "Language 'deutsch' is not an ISO 639-1 two-letter code"),
        ({"languages": "xx"}, "languages", "Language 'xx' is not an ISO 639-1"),  # not a code
        ({"languages": ""}, "languages", "name at least one ISO 639-1 code, e.g. de"),  # none
        ({"pref_age_min": -1}, "pref_age_min", "Patient age -1 must be between 0 and 110"),  # negative age
        ({"pref_age_max": 111}, "pref_age_max", "Patient age 111 must be between 0 and 110"),  # too old
        ({"pref_age_min": "achtzehn"}, "pref_age_min", "is not a whole number of years, e.g. 18"),  # words
        ({"pref_age_min": 65, "pref_age_max": 18}, "pref_age_max", "Patient age range 65-18 ends before it starts"),
        ({"pref_patient_gender": "women"}, "pref_patient_gender", "is not one of female, male, any"),
        ({"pref_diagnoses": "F32, depression"}, "pref_diagnoses", "Diagnosis 'depression' is not an ICD-10 code"),
        ({"pref_diagnoses": ["G40"]}, "pref_diagnoses", "use F00-F99 with an optional subcode, e.g. F32.1"),
        ({"phone_hours": "Mo 9"}, "phone_hours", "Phone hours: '9' has no end time"),  # incomplete hours
        ({"gender": "x"}, "gender", "gender 'x' is not one of female, male, diverse, unknown"),
        ({"statutory_licence": "ja"}, "statutory_licence", "must be yes or no"),  # not a flag
        ({"last_verified_on": date(2027, 1, 1)}, "last_verified_on", "01.01.2027 lies in the future"),
        ({"accepting_confirmed_on": "gestern"}, "accepting_confirmed_on", "is not a date, e.g. 2026-03-31"),
        ({"source": "internet"}, "source", "source 'internet' is not one of manual, 116117, demo"),
        ({"shoe_size": 42}, "_form", "Unknown field(s) ['shoe_size']"),  # a field that does not exist
    ],
)
def test_create__bad_input_names_the_field_and_writes_nothing(session, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        therapists.create(session, data=valid(**changes), actor=STAFF, today=TODAY)
    assert message in caught.value.errors[field]
    assert nothing_written(session)


def test_create__reports_every_bad_field_at_once(session):
    with pytest.raises(ValidationError) as caught:
        therapists.create(session, data=valid(postcode="1", email="x@", languages="klingonisch"), actor=STAFF,
                          today=TODAY)  # fmt: skip
    assert set(caught.value.errors) == {"postcode", "email", "languages"}
    assert nothing_written(session)


# -- status machine ---------------------------------------------------------------------------------------

A, B, OFF = TherapistStatus.ACTIVE, TherapistStatus.BLOCKED, TherapistStatus.INACTIVE


def put_in_status(session, therapist, status):
    if status == B:
        therapists.block(session, therapist_id=therapist.id, reason="Pause", actor=STAFF, today=TODAY)
    elif status == OFF:
        therapists.deactivate(session, therapist_id=therapist.id, reason="Ruhestand", actor=STAFF, today=TODAY)


@pytest.mark.parametrize(
    ("start", "action", "result"),
    [
        (A, "block", B),  # allowed: active therapists can be blocked
        (A, "deactivate", OFF),  # allowed: practice closed
        (A, "unblock", "allowed: block (-> blocked), deactivate (-> inactive)"),  # not blocked
        (A, "reactivate", "allowed: block (-> blocked), deactivate (-> inactive)"),  # already active
        (B, "unblock", A),  # allowed: block lifted
        (B, "deactivate", OFF),  # allowed: a blocked therapist retires
        (B, "block", "allowed: unblock (-> active), deactivate (-> inactive)"),  # already blocked
        (B, "reactivate", "allowed: unblock (-> active), deactivate (-> inactive)"),  # unblock, not reactivate
        (OFF, "reactivate", A),  # allowed: practice reopened
        (OFF, "block", "allowed: reactivate (-> active)"),  # blocking an inactive therapist means nothing
        (OFF, "unblock", "allowed: reactivate (-> active)"),  # not blocked
        (OFF, "deactivate", "allowed: reactivate (-> active)"),  # already inactive
    ],
)
def test_change_status__every_allowed_and_forbidden_transition(session, mara, start, action, result):
    put_in_status(session, mara, start)
    before = count(session, AuditEvent)
    if isinstance(result, TherapistStatus):
        therapists.change_status(session, therapist_id=mara.id, action=action, reason="Grund", actor=STAFF,
                                 today=TODAY)  # fmt: skip
        assert mara.status == result
        assert count(session, AuditEvent) == before + 1
    else:
        with pytest.raises(IllegalTransition) as caught:
            therapists.change_status(session, therapist_id=mara.id, action=action, reason="Grund", actor=STAFF,
                                     today=TODAY)  # fmt: skip
        assert str(caught.value) == f"Therapist status '{start.value}' does not allow '{action}'; {result}"
        assert (mara.status, count(session, AuditEvent)) == (start, before)


def test_block__keeps_reason_and_until_audits_and_emits(session, mara):
    therapists.block(session, therapist_id=mara.id, reason=" Elternzeit ", until=date(2027, 3, 1), actor=STAFF,
                     today=TODAY)  # fmt: skip
    assert (mara.status, mara.status_reason, mara.status_until) == (B, "Elternzeit", date(2027, 3, 1))
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.blocked")).one()
    assert (event.reason, event.details["until"], event.details["from"]) == ("Elternzeit", "2027-03-01", "active")
    assert session.scalar(select(DomainEvent.payload).where(DomainEvent.event_type == "therapist.blocked")) == {
        "from": "active", "to": "blocked", "until": "2027-03-01"
    }  # fmt: skip


def test_unblock__clears_reason_and_until(session, mara):
    therapists.block(session, therapist_id=mara.id, reason="Pause", until=date(2027, 1, 1), actor=STAFF, today=TODAY)
    therapists.unblock(session, therapist_id=mara.id, reason="Wieder da", actor=STAFF, today=TODAY)
    assert (mara.status, mara.status_reason, mara.status_until) == (A, None, None)


@pytest.mark.parametrize(
    ("reason", "until", "field", "message"),
    [
        ("", None, "reason", "A reason is required to block a therapist, e.g. 'Bittet um eine Pause"),  # no reason
        ("   ", None, "reason", "A reason is required"),  # blank reason
        ("x" * 501, None, "reason", "The reason has 501 characters; at most 500 fit"),  # essay
        ("Pause", TODAY, "status_until", "Blocked until 26.11.2026 is not in the future"),  # ends today
        ("Pause", TODAY - timedelta(days=3), "status_until", "choose a later date, e.g. 24.12.2026"),  # past
    ],
)
def test_block__bad_input_changes_nothing(session, mara, reason, until, field, message):
    before = (count(session, AuditEvent), count(session, DomainEvent))
    with pytest.raises(ValidationError) as caught:
        therapists.block(session, therapist_id=mara.id, reason=reason, until=until, actor=STAFF, today=TODAY)
    assert (caught.value.field, message in str(caught.value)) == (field, True)
    session.refresh(mara)
    assert (mara.status, mara.status_reason) == (A, None)
    assert (count(session, AuditEvent), count(session, DomainEvent)) == before


def test_change_status__stale_version_is_refused(session, mara):
    with pytest.raises(ConcurrentEdit, match="changed by someone else meanwhile"):
        therapists.block(session, therapist_id=mara.id, reason="Pause", actor=STAFF, today=TODAY,
                         version=mara.version - 1)  # fmt: skip


def test_unknown_therapist__is_not_found(session):
    with pytest.raises(NotFound, match="Therapist 999999 does not exist"):
        therapists.block(session, therapist_id=999_999, reason="Pause", actor=STAFF, today=TODAY)


# -- automatic unblock ------------------------------------------------------------------------------------


def test_unblock_expired__lifts_blocks_that_ran_out_on_a_fixed_clock(session):
    due = therapists.create(session, data=valid(first_name="Ada", email=None, phone=None), actor=STAFF, today=TODAY)
    later = therapists.create(session, data=valid(first_name="Bea", email=None, phone=None), actor=STAFF, today=TODAY)
    open_ended = therapists.create(session, data=valid(first_name="Cem", email=None, phone=None), actor=STAFF,
                                   today=TODAY)  # fmt: skip
    therapists.block(session, therapist_id=due.id, reason="Pause", until=date(2026, 12, 1), actor=STAFF, today=TODAY)
    therapists.block(session, therapist_id=later.id, reason="Pause", until=date(2026, 12, 2), actor=STAFF, today=TODAY)
    therapists.block(session, therapist_id=open_ended.id, reason="Pause", actor=STAFF, today=TODAY)

    # 30 Nov 23:30 UTC is already 1 Dec 00:30 in Berlin: the block "until 1 Dec" has run out there
    counts = unblock_expired(session, now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))

    assert counts["unblocked"] == 1
    assert [t.status for t in (due, later, open_ended)] == [A, B, B]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.unblocked")).one()
    assert (event.actor, event.entity_id, event.reason) == (
        "job:unblock_therapists",
        str(due.id),
        "block ended on 2026-12-01",
    )
    assert unblock_expired(session, now=datetime(2026, 11, 30, 23, 45, tzinfo=UTC))["unblocked"] == 0


def test_unblock_job__is_registered_hourly_and_runs_through_the_runner(committed_db):
    from sqlalchemy.orm import Session

    assert registry.get("unblock_therapists").cron == "5 * * * *"
    with Session(committed_db) as session:
        ada = therapists.create(session, data=valid(), actor=STAFF, today=TODAY)
        therapists.block(session, therapist_id=ada.id, reason="Pause", until=date(2026, 12, 1), actor=STAFF,
                         today=TODAY)  # fmt: skip
        session.commit()
        ada_id = ada.id
    run = runner.run_job("unblock_therapists", engine=committed_db, now=datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    assert (run.status.value, run.counts["unblocked"]) == ("succeeded", 1)
    with Session(committed_db) as session:
        assert session.get(Therapist, ada_id).status == A


# -- optimistic locking -----------------------------------------------------------------------------------


def test_update__changes_fields_marks_them_staff_edited_and_audits_names(session, mara):
    original, version = therapists.editable_values(mara), mara.version
    therapists.update(session, therapist_id=mara.id, version=version, original=original,
                      changes={"phone": "040 1234567", "pref_diagnoses": "F41"}, actor=STAFF, today=TODAY)  # fmt: skip
    assert (mara.phone, mara.pref_diagnoses, mara.version) == ("+49401234567", ["F41"], version + 1)
    assert {"phone", "pref_diagnoses"} <= set(mara.staff_edited_fields)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.updated")).one()
    assert event.details == {"fields": ["phone", "pref_diagnoses"]}


def test_update__second_save_is_refused_naming_the_fields_changed_meanwhile(session, mara):
    original, version = therapists.editable_values(mara), mara.version
    therapists.update(session, therapist_id=mara.id, version=version, original=original,
                      changes={"email": "neu@example.org", "city": "Berlin-Mitte"}, actor="ben@example.org",
                      today=TODAY)  # fmt: skip
    with pytest.raises(ConcurrentEdit) as caught:
        therapists.update(session, therapist_id=mara.id, version=version, original=original,
                          changes={"phone": "040 1234567"}, actor=STAFF, today=TODAY)  # fmt: skip
    assert sorted(caught.value.fields) == ["city", "email"]
    assert "changed meanwhile: city, email" in str(caught.value)
    assert (mara.phone, mara.email) == ("+49301234567", "neu@example.org")


def test_update__new_accepting_answer_is_confirmed_today(session, mara):
    therapists.update(session, therapist_id=mara.id, version=mara.version, original=therapists.editable_values(mara),
                      changes={"accepting_patients": False}, actor=STAFF, today=TODAY + timedelta(days=3))  # fmt: skip
    assert (mara.accepting_patients, mara.accepting_confirmed_on) == (False, TODAY + timedelta(days=3))


def test_update__bad_input_writes_nothing(session, mara):
    version, before = mara.version, count(session, AuditEvent)
    with pytest.raises(ValidationError, match="PLZ '99999' does not exist"):
        therapists.update(session, therapist_id=mara.id, version=version, original=therapists.editable_values(mara),
                          changes={"postcode": "99999", "city": "Nirgendwo"}, actor=STAFF, today=TODAY)  # fmt: skip
    session.refresh(mara)
    assert (mara.postcode, mara.city, mara.version, count(session, AuditEvent)) == ("10115", "Berlin", version, before)


def test_update__new_postcode_moves_the_location_to_its_centroid(session, mara):
    therapists.update(session, therapist_id=mara.id, version=mara.version, original=therapists.editable_values(mara),
                      changes={"postcode": "20095", "city": "Hamburg"}, actor=STAFF, today=TODAY)  # fmt: skip
    assert (round(mara.latitude, 1), round(mara.longitude, 1)) == (53.6, 10.0)


# -- duplicates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"email": "andere@example.org", "phone": "040 9876543"}, ("name_postcode",)),  # same name and PLZ
        ({"first_name": "Jan", "phone": "040 9876543", "email": " PRAXIS.Beispiel@example.org"}, ("email",)),
        ({"first_name": "Jan", "email": None, "phone": "+49 30 1234567"}, ("phone",)),  # same phone, other spelling
        ({}, ("name_postcode", "email", "phone")),  # everything the same
    ],
)
def test_create__possible_duplicate_shows_the_existing_record_and_writes_nothing(session, mara, changes, reasons):
    before = (count(session, Therapist), count(session, AuditEvent))
    with pytest.raises(PossibleDuplicate) as caught:
        therapists.create(session, data=valid(**changes), actor=STAFF, today=TODAY)
    [candidate] = caught.value.candidates
    assert (candidate.id, candidate.name, candidate.reasons) == (mara.id, "Dr. Mara Beispiel", reasons)
    assert f"#{mara.id} Dr. Mara Beispiel" in str(caught.value)
    assert (count(session, Therapist), count(session, AuditEvent)) == before


def test_create__confirmed_duplicate_is_saved_and_the_confirmation_audited(session, mara):
    twin = therapists.create(session, data=valid(), actor=STAFF, today=TODAY, allow_duplicate=True)
    assert twin.id != mara.id
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "therapist.created", AuditEvent.entity_id == str(twin.id))
    ).one()
    assert event.details["confirmed_duplicate_of"] == [mara.id]


def test_create__different_person_elsewhere_is_no_duplicate(session, mara):
    other = therapists.create(session, data=valid(postcode="20095", email=None, phone=None, city="Hamburg"),
                              actor=STAFF, today=TODAY)  # fmt: skip
    assert other.id != mara.id


# -- list and quick search --------------------------------------------------------------------------------


@pytest.fixture
def team(session):
    people = [
        ("Ada", "Abel", "10115", ["VT individual adults"], "de", True),
        ("Ben", "Berg", "10117", ["TP individual adults", "TP group adults"], "de, en", False),
        ("Cem", "Cohn", "20095", ["VT individual children_youth"], "de, tr", None),
        ("Dora", "Dahl", "80331", ["ST group adults"], "de", True),
    ]
    made = []
    for first, last, plz, procedures, languages, accepting in people:
        made.append(therapists.create(session, data=valid(first_name=first, last_name=last, postcode=plz, title=None,
                    procedures=procedures, languages=languages, accepting_patients=accepting, email=None, phone=None,
                    street=f"{last}weg 1"), actor=STAFF, today=TODAY))  # fmt: skip
    therapists.block(session, therapist_id=made[3].id, reason="Pause", actor=STAFF, today=TODAY)
    return made


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        (TherapistFilter(), ["Ada Abel", "Ben Berg", "Cem Cohn", "Dora Dahl"]),  # no filter
        (TherapistFilter(procedure="VT"), ["Ada Abel", "Cem Cohn"]),  # procedure
        (TherapistFilter(procedure="TP", setting="group"), ["Ben Berg"]),  # procedure and setting in one offer
        (TherapistFilter(procedure="VT", setting="group"), []),  # parts of different offers do not combine
        (TherapistFilter(age_group="children_youth"), ["Cem Cohn"]),  # age group
        (TherapistFilter(language="en"), ["Ben Berg"]),  # language
        (TherapistFilter(status="active"), ["Ada Abel", "Ben Berg", "Cem Cohn"]),  # blocked Dora drops out
        (TherapistFilter(status="blocked"), ["Dora Dahl"]),  # only blocked
        (TherapistFilter(accepting="yes"), ["Ada Abel", "Dora Dahl"]),  # accepting
        (TherapistFilter(accepting="unknown"), ["Cem Cohn"]),  # never asked
        (TherapistFilter(plz_prefix="101"), ["Ada Abel", "Ben Berg"]),  # PLZ prefix
        (TherapistFilter(name="ohn"), ["Cem Cohn"]),  # part of a name
        (TherapistFilter(name="ben berg"), ["Ben Berg"]),  # first and last name
        (TherapistFilter(name="100%"), []),  # LIKE wildcards are literal
    ],
)
def test_get_all__filters_in_sql(session, team, filters, names):
    page = therapists.get_all(session, filters=filters)
    assert ([r.name for r in page.rows], page.total) == (names, len(names))


def test_get_all__sorts_and_pages(session, team):
    first = therapists.get_all(session, sort="postcode", descending=True, page=1, page_size=3)
    second = therapists.get_all(session, sort="postcode", descending=True, page=2, page_size=3)
    assert [r.postcode for r in first.rows + second.rows] == ["80331", "20095", "10117", "10115"]
    assert (first.total, first.pages, second.page) == (4, 2, 2)
    assert therapists.get_all(session, page=99, page_size=3).page == 2  # beyond the end: the last page


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "shoe_size"}, "Sort 'shoe_size' is unknown; use one of name, postcode"),  # unknown sort
        ({"page_size": 0}, "Page size 0 must be 1 to 500"),  # empty pages
        ({"filters": TherapistFilter(plz_prefix="1a")}, "PLZ prefix '1a' must be 1 to 5 digits, e.g. 101"),
        ({"filters": TherapistFilter(status="asleep")}, "Filter status 'asleep' is not one of active"),
        ({"filters": TherapistFilter(procedure="XY")}, "Filter procedure 'XY' is not one of VT, TP, AP, ST"),
        ({"filters": TherapistFilter(accepting="maybe")}, "Filter accepting 'maybe' is not one of yes, no, unknown"),
    ],
)
def test_get_all__bad_parameters_are_explained(session, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        therapists.get_all(session, **kwargs)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("abel", ["Ada Abel"]),  # last name prefix
        ("ad", ["Ada Abel"]),  # first name prefix
        ("c", ["Cem Cohn"]),  # one letter
        ("101", ["Ada Abel", "Ben Berg"]),  # PLZ prefix
        ("b 10117", ["Ben Berg"]),  # name and PLZ together
        ("", []),  # nothing typed
        ("zz", []),  # nobody
    ],
)
def test_search__finds_by_name_and_postcode(session, team, query, names):
    hits = therapists.search(session, query=query, limit=10)
    assert [h["name"] for h in hits] == names


def test_search__returns_what_the_quick_search_box_shows(session, team):
    assert therapists.search(session, query="Dahl", limit=5) == [
        {"id": team[3].id, "name": "Dora Dahl", "postcode": "80331", "city": "Berlin", "status": "blocked"}
    ]


def test_list_and_search__use_indexes_at_scale(session):
    """The list's sort and the quick search are index lookups, not scans (checked on the plan, not the clock)."""
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned otherwise
    plans = {}
    for name, sql in {
        "sort": "SELECT id FROM therapist ORDER BY lower(last_name), lower(first_name), id LIMIT 50",
        "prefix": "SELECT id FROM therapist WHERE lower(last_name) LIKE 'schm%'",
        "procedure": """SELECT id FROM therapist WHERE procedures @> '[{"procedure": "VT"}]'""",
        "language": "SELECT id FROM therapist WHERE languages @> ARRAY['en']::varchar[]",
        "plz": "SELECT id FROM therapist WHERE postcode LIKE '101%'",
    }.items():
        plans[name] = "\n".join(session.scalars(text(f"EXPLAIN {sql}")))
    indexes = {
        "sort": "ix_therapist_name_sort",
        "prefix": "ix_therapist_last_name_prefix",
        "procedure": "ix_therapist_procedures",
        "language": "ix_therapist_languages",
        "plz": "ix_therapist_postcode",
    }
    for name, index in indexes.items():
        assert index in plans[name], plans[name]
