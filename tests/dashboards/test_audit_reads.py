"""Every read of personal data is audited: actor, what was read (references/ids, never names) and the page."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.patients.models import Patient
from tests.dashboards.conftest import open_page
from tests.dashboards.test_calls_page import a_call_now
from tests.dashboards.test_patient_pages import make_patient


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def reads(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def references(engine, last_names: list[str]) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(Patient.reference).where(Patient.last_name.in_(last_names))))


def names_absent(event: AuditEvent, *names: str) -> bool:
    row = json.dumps([event.details, event.reason, event.entity_id], default=str)
    return not any(name in row for name in names)


def test_patient_list__one_row_per_view_listing_the_shown_references(repo_root, staff, committed_db):
    make_patient(committed_db, last_name="Beispiel")
    make_patient(committed_db, last_name="Muster", first_name="Tom", email="tom@example.org", postcode="20095")
    at = as_staff(repo_root, staff, "patients.py")
    assert not at.exception

    (event,) = reads(committed_db, "read.patient_list")
    assert event.actor == staff[1]
    assert event.actor_id == staff[0]
    assert event.reason == "page:patients"
    assert event.details["references"] == references(committed_db, ["Beispiel", "Muster"])
    assert names_absent(event, "Beispiel", "Muster", "Lea", "Tom")

    at.run()  # the same list again (a rerun): the same view, no second row
    assert len(reads(committed_db, "read.patient_list")) == 1
    at.text_input(key="patients_text").input("Muster").run()  # a search by name: logged by its references
    latest = reads(committed_db, "read.patient_list")[-1]
    assert latest.details["references"] == references(committed_db, ["Muster"])
    assert latest.details["filters"] == ["text"]
    assert names_absent(latest, "Muster")


def test_quick_search__logs_the_references_found_never_the_query(repo_root, staff, committed_db):
    make_patient(committed_db, last_name="Quicksilber")
    at = as_staff(repo_root, staff, "status.py")
    at.text_input(key="quick_query").input("Quicksilber").run()
    # (AppTest cannot resolve the result links in the sidebar, which the browser tests click; the read is logged first)

    (event,) = reads(committed_db, "read.quick_search")
    assert event.actor == staff[1]
    assert event.reason == "page:quick_search"
    assert event.details["references"] == references(committed_db, ["Quicksilber"])
    assert names_absent(event, "Quicksilber", "Lea")


def test_call_list__logs_the_day_the_calls_and_the_patient_references(repo_root, staff, committed_db):
    _, call_id, _ = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")
    assert not at.exception

    (event,) = reads(committed_db, "read.call_list")
    assert event.actor == staff[1]
    assert event.reason == "page:calls"
    assert event.details["calls"] == [call_id]
    assert event.details["references"] == references(committed_db, ["Beispiel", "Muster"])
    assert names_absent(event, "Beispiel", "Muster", "Kraus")


def test_patient_detail__opening_is_still_audited_as_a_read_of_that_patient(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db, last_name="Detail")
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    (event,) = reads(committed_db, "patient.viewed")
    assert (event.entity_type, event.entity_id, event.actor) == ("patient", str(patient_id), staff[1])
    assert date.today() == event.occurred_at.date()


def test_rejection_list_download__each_download_is_audited_with_its_format(repo_root, staff, committed_db):
    a_call_now(committed_db)  # the practice was asked about "Beispiel": one line on the rejection list
    with Session(committed_db) as session:
        patient = session.scalars(select(Patient).where(Patient.last_name == "Beispiel")).one()
        patient_id, reference = patient.id, patient.reference
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    assert reads(committed_db, "read.rejection_list") == []  # showing the buttons is no download

    at.get("download_button")[1].click().run()  # CSV
    at.get("download_button")[1].click().run()  # and again: a second copy

    events = reads(committed_db, "read.rejection_list")
    assert [(e.details["format"], e.entity_id, e.details["references"]) for e in events] == [
        ("csv", str(patient_id), [reference]),
        ("csv", str(patient_id), [reference]),
    ]
    assert names_absent(events[0], "Beispiel")
