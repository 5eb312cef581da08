"""Initial schema: every table of DESIGN section 3 (read and checked by hand).

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:53:54.112399+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domain_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("aggregate_type", sa.String(length=64), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_event")),
    )
    op.create_index(
        "ix_domain_event_aggregate",
        "domain_event",
        ["aggregate_type", "aggregate_id"],
        unique=False,
    )
    op.create_index(
        "ix_domain_event_unpublished",
        "domain_event",
        ["id"],
        unique=False,
        postgresql_where="published_at IS NULL",
    )
    op.create_table(
        "geocache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=400), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "precision",
            sa.Enum(
                "address",
                "postcode",
                "none",
                name="location_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geocache")),
        sa.UniqueConstraint("query", name=op.f("uq_geocache_query")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                "skipped",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("triggered_by", sa.String(length=254), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job_started", "job_run", ["job_name", "started_at"], unique=False)
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "searching",
                "in_therapy",
                "therapy_finished",
                "search_cancelled",
                "therapy_aborted",
                name="patient_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column(
            "gender",
            sa.Enum(
                "female",
                "male",
                "diverse",
                "unknown",
                name="gender",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "location_precision",
            sa.Enum(
                "address",
                "postcode",
                "none",
                name="location_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("location_source", sa.String(length=32), nullable=True),
        sa.Column(
            "insurance_type",
            sa.Enum(
                "statutory",
                "private",
                "subsidy",
                "self_pay",
                name="insurance_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("insurance_name", sa.String(length=100), nullable=True),
        sa.Column("symptoms", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("diagnoses", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("previous_therapy_end", sa.Date(), nullable=True),
        sa.Column("two_year_exception", sa.Text(), nullable=True),
        sa.Column("availability", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("weekly_hours", sa.Float(), nullable=False),
        sa.Column("max_distance_km", sa.Float(), nullable=True),
        sa.Column("max_travel_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "transport_mode",
            sa.Enum(
                "car",
                "transit",
                "bike",
                "foot",
                name="transport_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "therapist_gender_wish",
            sa.Enum(
                "female",
                "male",
                "any",
                name="gender_wish",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("procedure_wishes", sa.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column(
            "setting_wish",
            sa.Enum(
                "individual",
                "group",
                "either",
                name="setting_wish",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("languages", sa.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("excluded_therapist_ids", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("contact_language", sa.String(length=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "max_distance_km IS NULL OR max_distance_km > 0",
            name=op.f("ck_patient_max_distance_positive"),
        ),
        sa.CheckConstraint(
            "weekly_hours >= 0 AND weekly_hours <= 168",
            name=op.f("ck_patient_weekly_hours_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("reference", name=op.f("uq_patient_reference")),
    )
    op.create_index(
        "ix_patient_last_name_lower",
        "patient",
        [sa.literal_column("lower(last_name)")],
        unique=False,
    )
    op.create_index("ix_patient_postcode", "patient", ["postcode"], unique=False)
    op.create_index("ix_patient_status", "patient", ["status"], unique=False)
    op.create_table(
        "postcode",
        sa.Column("plz", sa.String(length=5), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=40), nullable=True),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("plz", name=op.f("pk_postcode")),
    )
    op.create_index("ix_postcode_region", "postcode", ["region"], unique=False)
    op.create_table(
        "practice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email_normalized", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=5), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "location_precision",
            sa.Enum(
                "address",
                "postcode",
                "none",
                name="location_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "contact_channel",
            sa.Enum(
                "email",
                "phone",
                name="contact_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("phone_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cooldown_until", sa.Date(), nullable=True),
        sa.Column("last_contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice")),
    )
    op.create_index("ix_practice_cooldown_until", "practice", ["cooldown_until"], unique=False)
    op.create_index("ix_practice_email_normalized", "practice", ["email_normalized"], unique=False)
    op.create_index("ix_practice_postcode", "practice", ["postcode"], unique=False)
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "staff",
                "manager",
                "analyst",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
    )
    op.create_index(
        "uq_staff_user_email_lower",
        "staff_user",
        [sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_user.id"],
            name=op.f("fk_audit_event_actor_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(
        "ix_audit_event_entity",
        "audit_event",
        ["entity_type", "entity_id"],
        unique=False,
    )
    op.create_index("ix_audit_event_occurred_at", "audit_event", ["occurred_at"], unique=False)
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "health_data",
                "share_profile",
                name="consent_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_consent_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_consent_recorded_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_patient_kind", "consent", ["patient_id", "kind"], unique=False)
    op.create_table(
        "search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "paused",
                "successful",
                "cancelled",
                name="search_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("max_parallel_inquiries", sa.Integer(), nullable=False),
        sa.Column("relaxations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("excluded_therapist_ids", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status <> 'paused' OR paused_until IS NOT NULL",
            name=op.f("ck_search_paused_needs_until"),
        ),
        sa.CheckConstraint(
            "max_parallel_inquiries BETWEEN 1 AND 20",
            name=op.f("ck_search_parallel_range"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_search_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search")),
    )
    op.create_index(op.f("ix_search_patient_id"), "search", ["patient_id"], unique=False)
    op.create_index(
        "ix_search_paused_until",
        "search",
        ["paused_until"],
        unique=False,
        postgresql_where="status = 'paused'",
    )
    op.create_index("ix_search_status_started_on", "search", ["status", "started_on"], unique=False)
    op.create_table(
        "therapist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column(
            "gender",
            sa.Enum(
                "female",
                "male",
                "diverse",
                "unknown",
                name="gender",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=5), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "location_precision",
            sa.Enum(
                "address",
                "postcode",
                "none",
                name="location_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("location_source", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("procedures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("languages", sa.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("phone_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pref_age_min", sa.Integer(), nullable=True),
        sa.Column("pref_age_max", sa.Integer(), nullable=True),
        sa.Column(
            "pref_patient_gender",
            sa.Enum(
                "female",
                "male",
                "any",
                name="gender_wish",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("pref_diagnoses", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("statutory_licence", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "blocked",
                "inactive",
                name="therapist_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_until", sa.Date(), nullable=True),
        sa.Column("accepting_patients", sa.Boolean(), nullable=True),
        sa.Column("accepting_confirmed_on", sa.Date(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "manual",
                "116117",
                "demo",
                name="therapist_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("last_verified_on", sa.Date(), nullable=True),
        sa.Column("last_seen_on", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("staff_edited_fields", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status = 'active' OR status_reason IS NOT NULL",
            name=op.f("ck_therapist_status_needs_reason"),
        ),
        sa.CheckConstraint(
            "pref_age_min IS NULL OR pref_age_max IS NULL OR pref_age_min <= pref_age_max",
            name=op.f("ck_therapist_age_range"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
            name=op.f("fk_therapist_practice_id_practice"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapist")),
    )
    op.create_index("ix_therapist_postcode", "therapist", ["postcode"], unique=False)
    op.create_index(op.f("ix_therapist_practice_id"), "therapist", ["practice_id"], unique=False)
    op.create_index(
        "ix_therapist_source_external_id",
        "therapist",
        ["source", "external_id"],
        unique=True,
    )
    op.create_index("ix_therapist_status", "therapist", ["status"], unique=False)
    op.create_table(
        "inquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "queued",
                "sent",
                "reminded",
                "call_scheduled",
                "answered",
                "expired",
                "discarded",
                name="inquiry_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("matching_run", sa.String(length=40), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_inquiry_approved_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
            name=op.f("fk_inquiry_practice_id_practice"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapist.id"],
            name=op.f("fk_inquiry_therapist_id_therapist"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry")),
        sa.UniqueConstraint("reference", name=op.f("uq_inquiry_reference")),
    )
    op.create_index("ix_inquiry_practice_status", "inquiry", ["practice_id", "status"], unique=False)
    op.create_index("ix_inquiry_status", "inquiry", ["status"], unique=False)
    op.create_index(op.f("ix_inquiry_therapist_id"), "inquiry", ["therapist_id"], unique=False)
    op.create_table(
        "email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "queued",
                "sending",
                "sent",
                "failed",
                "dead",
                name="email_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiry.id"],
            name=op.f("fk_email_inquiry_id_inquiry"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_email_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapist.id"],
            name=op.f("fk_email_therapist_id_therapist"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_message_id")),
    )
    op.create_index("ix_email_inquiry_id", "email", ["inquiry_id"], unique=False)
    op.create_index(op.f("ix_email_patient_id"), "email", ["patient_id"], unique=False)
    op.create_index(
        "ix_email_status_next_attempt_at",
        "email",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(op.f("ix_email_therapist_id"), "email", ["therapist_id"], unique=False)
    op.create_table(
        "inquiry_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "accepted",
                "declined_capacity",
                "declined_unsuitable",
                "declined_other",
                "no_answer",
                "no_show",
                "in_sessions",
                "withdrawn",
                name="item_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_exploration", sa.Boolean(), nullable=False),
        sa.Column("selection_probability", sa.Float(), nullable=True),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "answer_source",
            sa.Enum(
                "staff",
                "link",
                "phone",
                "email",
                name="answer_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("answer_message", sa.Text(), nullable=True),
        sa.Column("proposed_first_session", sa.Date(), nullable=True),
        sa.Column("is_conflict", sa.Boolean(), nullable=False),
        sa.Column("conflict_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiry.id"],
            name=op.f("fk_inquiry_item_inquiry_id_inquiry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["search.id"],
            name=op.f("fk_inquiry_item_search_id_search"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_item")),
        sa.UniqueConstraint("inquiry_id", "search_id", name="uq_inquiry_item_inquiry_search"),
    )
    op.create_index(
        "ix_inquiry_item_search_outcome",
        "inquiry_item",
        ["search_id", "outcome"],
        unique=False,
    )
    op.create_table(
        "phone_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "done",
                "failed",
                "cancelled",
                name="call_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiry.id"],
            name=op.f("fk_phone_call_inquiry_id_inquiry"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_phone_call_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_phone_call_staff_user_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapist.id"],
            name=op.f("fk_phone_call_therapist_id_therapist"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_call")),
    )
    op.create_index(op.f("ix_phone_call_inquiry_id"), "phone_call", ["inquiry_id"], unique=False)
    op.create_index(op.f("ix_phone_call_patient_id"), "phone_call", ["patient_id"], unique=False)
    op.create_index(
        "ix_phone_call_status_scheduled_for",
        "phone_call",
        ["status", "scheduled_for"],
        unique=False,
    )
    op.create_index(op.f("ix_phone_call_therapist_id"), "phone_call", ["therapist_id"], unique=False)
    op.create_table(
        "placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("inquiry_item_id", sa.Integer(), nullable=True),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("first_session_on", sa.Date(), nullable=True),
        sa.Column("first_session_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_item_id"],
            ["inquiry_item.id"],
            name=op.f("fk_placement_inquiry_item_id_inquiry_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["search.id"],
            name=op.f("fk_placement_search_id_search"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapist.id"],
            name=op.f("fk_placement_therapist_id_therapist"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement")),
        sa.UniqueConstraint("search_id", name=op.f("uq_placement_search_id")),
    )
    op.create_index(op.f("ix_placement_therapist_id"), "placement", ["therapist_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_placement_therapist_id"), table_name="placement")
    op.drop_table("placement")
    op.drop_index(op.f("ix_phone_call_therapist_id"), table_name="phone_call")
    op.drop_index("ix_phone_call_status_scheduled_for", table_name="phone_call")
    op.drop_index(op.f("ix_phone_call_patient_id"), table_name="phone_call")
    op.drop_index(op.f("ix_phone_call_inquiry_id"), table_name="phone_call")
    op.drop_table("phone_call")
    op.drop_index("ix_inquiry_item_search_outcome", table_name="inquiry_item")
    op.drop_table("inquiry_item")
    op.drop_index(op.f("ix_email_therapist_id"), table_name="email")
    op.drop_index("ix_email_status_next_attempt_at", table_name="email")
    op.drop_index(op.f("ix_email_patient_id"), table_name="email")
    op.drop_index("ix_email_inquiry_id", table_name="email")
    op.drop_table("email")
    op.drop_index(op.f("ix_inquiry_therapist_id"), table_name="inquiry")
    op.drop_index("ix_inquiry_status", table_name="inquiry")
    op.drop_index("ix_inquiry_practice_status", table_name="inquiry")
    op.drop_table("inquiry")
    op.drop_index("ix_therapist_status", table_name="therapist")
    op.drop_index("ix_therapist_source_external_id", table_name="therapist")
    op.drop_index(op.f("ix_therapist_practice_id"), table_name="therapist")
    op.drop_index("ix_therapist_postcode", table_name="therapist")
    op.drop_table("therapist")
    op.drop_index("ix_search_status_started_on", table_name="search")
    op.drop_index(
        "ix_search_paused_until",
        table_name="search",
        postgresql_where="status = 'paused'",
    )
    op.drop_index(op.f("ix_search_patient_id"), table_name="search")
    op.drop_table("search")
    op.drop_index("ix_consent_patient_kind", table_name="consent")
    op.drop_table("consent")
    op.drop_index("ix_audit_event_occurred_at", table_name="audit_event")
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index("uq_staff_user_email_lower", table_name="staff_user")
    op.drop_table("staff_user")
    op.drop_index("ix_practice_postcode", table_name="practice")
    op.drop_index("ix_practice_email_normalized", table_name="practice")
    op.drop_index("ix_practice_cooldown_until", table_name="practice")
    op.drop_table("practice")
    op.drop_index("ix_postcode_region", table_name="postcode")
    op.drop_table("postcode")
    op.drop_index("ix_patient_status", table_name="patient")
    op.drop_index("ix_patient_postcode", table_name="patient")
    op.drop_index("ix_patient_last_name_lower", table_name="patient")
    op.drop_table("patient")
    op.drop_index("ix_job_run_job_started", table_name="job_run")
    op.drop_table("job_run")
    op.drop_table("geocache")
    op.drop_index(
        "ix_domain_event_unpublished",
        table_name="domain_event",
        postgresql_where="published_at IS NULL",
    )
    op.drop_index("ix_domain_event_aggregate", table_name="domain_event")
    op.drop_table("domain_event")
