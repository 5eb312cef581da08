"""The audit page in AppTest: admins only, filters, paging, a wrong date range, the chain-check status."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.audit.models import AuditEvent
from tests.dashboards.conftest import open_page, texts


def as_role(repo_root, staff, role):
    user_id, email = staff
    return open_page(repo_root, "audit.py", user_id=user_id, email=email, role=role)


def some_events(engine) -> None:
    with Session(engine) as session:
        for n in range(55):
            audit.record(session, actor="bulk@example.org", action="patient.viewed", entity_type="patient", entity_id=n)
        audit.record_read(session, actor="anna@example.org", what="patient_list", page="patients",
                          references=["P-AAAA11", "P-BBBB22"])  # fmt: skip
        session.add(
            AuditEvent(actor="old@example.org", action="login", occurred_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
        )
        session.commit()


def test_audit_page__is_for_admins_only(repo_root, staff):
    at = as_role(repo_root, staff, "staff")
    assert not at.exception
    assert "Zugriffsprotokoll" not in texts(at)  # neither in the menu nor reachable: staff land on their start page


def test_audit_page__filters_and_pages(repo_root, staff, committed_db):
    some_events(committed_db)
    at = as_role(repo_root, staff, "admin")
    assert not at.exception
    assert "Seite 1 von 2 · 58 Einträge" in texts(at)
    assert len(at.dataframe[0].value) == 50
    at.number_input(key="audit_page_no").set_value(2).run()
    assert len(at.dataframe[0].value) == 8  # 55 views, a list read, a login, the admin account's creation

    at.number_input(key="audit_page_no").set_value(1)
    at.text_input(key="audit_actor").input("anna").run()
    assert "1 Einträge" in texts(at)
    at.text_input(key="audit_actor").input("").run()
    at.text_input(key="audit_reference").input("p-bbbb22").run()
    assert "1 Einträge" in texts(at)
    assert "P-AAAA11, P-BBBB22" in at.dataframe[0].value.to_string()
    at.text_input(key="audit_reference").input("").run()
    at.selectbox(key="audit_action").set_value("login").run()
    assert "1 Einträge" in texts(at)


def test_audit_page__a_range_that_ends_before_it_starts_is_explained(repo_root, staff, committed_db):
    some_events(committed_db)
    at = as_role(repo_root, staff, "admin")
    at.date_input(key="audit_since").set_value(datetime(2026, 2, 1).date())
    at.date_input(key="audit_until").set_value(datetime(2026, 1, 1).date()).run()
    assert "bitte die Daten tauschen" in texts(at)


def test_audit_page__shows_the_chain_check_intact_then_broken(repo_root, staff, committed_db):
    some_events(committed_db)
    at = as_role(repo_root, staff, "admin")
    assert "noch nie geprüft" in texts(at)
    at.button(key="audit_check").click().run()
    assert "Kette intakt" in texts(at)
    with committed_db.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'nobody' WHERE actor = 'anna@example.org'"))
    at.button(key="audit_check").click().run()
    assert "Kette gebrochen" in texts(at)
    assert "was altered or moved" in texts(at)
