"""The migrated schema matches the models, and its constraints refuse impossible rows."""

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.db import current_revision
from core.db.models import Patient, StaffUser, metadata

DESIGN_TABLES = {
    "staff_user", "audit_event", "patient", "consent", "therapist", "practice", "search", "inquiry",
    "inquiry_item", "email", "phone_call", "geocache", "postcode", "job_run", "domain_event",
}  # fmt: skip


def test_migrations__produce_exactly_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    assert current_revision(engine) is not None


def test_schema__has_every_table_of_the_design(engine):
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))}
    assert tables >= DESIGN_TABLES


def test_schema__constraint_names_follow_the_convention(engine):
    with engine.connect() as conn:
        names = {
            r[0]
            for r in conn.execute(text("SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"))
        }
    assert "ck_patient_patient_status" in names
    assert "fk_inquiry_item_search_id_search" in names
    assert "pk_domain_event" in names


def test_schema__refuses_an_unknown_state(session):
    # the ORM validates enum values, so go around it the way a hand-written SQL script would
    patient = Patient(reference="P-T1", first_name="Ada", last_name="Beispiel", gender="female",
                      birth_date=date(1990, 1, 1), postcode="10115")  # fmt: skip
    session.add(patient)
    session.flush()
    insert_bad_state = text(
        "INSERT INTO search (patient_id, status, started_on, max_parallel_inquiries, relaxations,"
        " excluded_therapist_ids, version) VALUES (:p, 'sleeping', current_date, 3, '[]', '{}', 1)"
    )
    with pytest.raises(IntegrityError, match="ck_search_search_status"):
        session.execute(insert_bad_state, {"p": patient.id})


def test_schema__email_is_unique_regardless_of_case(session):
    session.add(StaffUser(email="Anna@Example.org", display_name="A", role="staff", password_hash="x"))
    session.flush()
    session.add(StaffUser(email="anna@example.org", display_name="B", role="staff", password_hash="x"))
    with pytest.raises(IntegrityError, match="uq_staff_user_email_lower"):
        session.flush()
