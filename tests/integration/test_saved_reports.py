"""Saved custom reports on real PostgreSQL: validated, owned, shared with colleagues, audited."""

from datetime import date

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.auth import service as auth
from core.errors import ConcurrentEdit, NotFound, ValidationError
from core.reports import service as reports
from core.reports.models import SavedReport
from core.warehouse.reports import ReportDefinition

BY_REGION = ReportDefinition(metric="placements", dimensions=("month", "region2"), date_from=date(2026, 1, 1))


@pytest.fixture
def anna(session):
    return auth.create_user(session, email="anna@example.org", role="manager", password="correct horse 42")


@pytest.fixture
def ben(session):
    return auth.create_user(session, email="ben@example.org", role="analyst", password="correct horse 42")


def names(found) -> list[str]:
    return [report.name for report in found]


def test_create__stores_the_definition_and_audits_it(session, anna):
    report = reports.create(session, owner=anna, name="  Vermittlungen   je Region ", definition=BY_REGION)
    assert report.name == "Vermittlungen je Region"
    assert reports.definition_of(session.get(SavedReport, report.id)) == BY_REGION
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.create")).one()
    assert (event.actor, event.entity_id, event.details["name"]) == ("anna@example.org", str(report.id), report.name)


@pytest.mark.parametrize(
    ("name", "definition", "field", "named"),
    [
        ("", BY_REGION, "name", "needs a name"),
        ("x" * 121, BY_REGION, "name", "121 characters"),
        ("Neu", ReportDefinition(metric="patients_named_anna"), "metric", "patients_named_anna"),
        ("Neu", ReportDefinition(metric="offers", dimensions=("last_name",)), "dimensions", "last_name"),
        (
            "Neu",
            ReportDefinition(metric="offers", date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)),
            "period",
            "swap",
        ),
    ],
)
def test_create__refuses_bad_input_and_saves_nothing(session, anna, name, definition, field, named):
    with pytest.raises(ValidationError) as caught:
        reports.create(session, owner=anna, name=name, definition=definition)
    assert named in caught.value.errors[field]
    assert session.scalars(select(SavedReport)).all() == []


def test_create__a_name_is_unique_per_owner_regardless_of_case(session, anna, ben):
    reports.create(session, owner=anna, name="Wochenbericht", definition=BY_REGION)
    with pytest.raises(ValidationError, match="already have a report named 'wochenbericht'"):
        reports.create(session, owner=anna, name="wochenbericht", definition=BY_REGION)
    reports.create(session, owner=ben, name="Wochenbericht", definition=BY_REGION)  # another owner may
    assert len(session.scalars(select(SavedReport)).all()) == 2


def test_get_all__lists_own_reports_and_those_colleagues_shared(session, anna, ben):
    reports.create(session, owner=anna, name="Anna privat", definition=BY_REGION)
    reports.create(session, owner=anna, name="Anna für alle", definition=BY_REGION, shared=True)
    reports.create(session, owner=ben, name="Ben eigen", definition=BY_REGION)
    assert names(reports.get_all(session, user_id=ben.id)) == ["Ben eigen", "Anna für alle"]
    assert names(reports.get_all(session, user_id=anna.id)) == ["Anna für alle", "Anna privat"]


def test_update__shares_renames_and_audits_what_changed(session, anna, ben):
    report = reports.create(session, owner=anna, name="Entwurf", definition=BY_REGION)
    reports.update(session, owner=anna, report_id=report.id, version=report.version, name="Final", shared=True)
    assert names(reports.get_all(session, user_id=ben.id)) == ["Final"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.update")).one()
    assert event.details == {"name": ["Entwurf", "Final"], "shared": [False, True]}


def test_update__a_colleague_cannot_change_or_delete_a_shared_report(session, anna, ben):
    report = reports.create(session, owner=anna, name="Geteilt", definition=BY_REGION, shared=True)
    with pytest.raises(ValidationError, match="belongs to a colleague"):
        reports.update(session, owner=ben, report_id=report.id, version=report.version, name="Meins")
    with pytest.raises(ValidationError, match="belongs to a colleague"):
        reports.delete(session, owner=ben, report_id=report.id)
    assert session.get(SavedReport, report.id).name == "Geteilt"


def test_update__refuses_a_stale_version(session, anna):
    report = reports.create(session, owner=anna, name="Alt", definition=BY_REGION)
    stale = report.version
    reports.update(session, owner=anna, report_id=report.id, version=stale, shared=True)
    with pytest.raises(ConcurrentEdit, match="changed by someone else"):
        reports.update(session, owner=anna, report_id=report.id, version=stale, name="Neu")


def test_get__an_unshared_report_of_a_colleague_is_not_found(session, anna, ben):
    report = reports.create(session, owner=anna, name="Privat", definition=BY_REGION)
    with pytest.raises(NotFound, match=f"Report {report.id}"):
        reports.get(session, report_id=report.id, user_id=ben.id)


def test_delete__removes_the_report_and_audits_it(session, anna):
    report = reports.create(session, owner=anna, name="Weg damit", definition=BY_REGION)
    reports.delete(session, owner=anna, report_id=report.id)
    assert reports.get_all(session, user_id=anna.id) == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.delete")).one()
    assert event.details["name"] == "Weg damit"
