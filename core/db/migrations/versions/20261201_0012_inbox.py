"""Inbound mail (replies, bounces), failing addresses, capacity reports, patients' choice of the weekly status mail.

Revision ID: 0012_inbox
Revises: 0011_session
Create Date: 2026-12-01 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_inbox"
down_revision: str | Sequence[str] | None = "0011_session"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "reply", "bounce", "other", name="inbound_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_address", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=True),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("email_id", sa.Integer(), nullable=True),
        sa.Column("failed_address", sa.String(length=254), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=254), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["inquiry_id"], ["inquiry.id"], name="fk_inbound_mail_inquiry_id_inquiry", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["email_id"], ["email.id"], name="fk_inbound_mail_email_id_email", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_mail"),
        sa.UniqueConstraint("message_id", name="uq_inbound_mail_message_id"),
    )
    op.create_index("ix_inbound_mail_inquiry_id", "inbound_mail", ["inquiry_id"], unique=False)
    op.create_index("ix_inbound_mail_open", "inbound_mail", ["handled_at", "kind"], unique=False)

    op.create_table(
        "failing_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("inbound_mail_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist.id"], name="fk_failing_address_therapist_id_therapist", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practice.id"], name="fk_failing_address_practice_id_practice", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["inbound_mail_id"],
            ["inbound_mail.id"],
            name="fk_failing_address_inbound_mail_id_inbound_mail",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_failing_address"),
        sa.UniqueConstraint("address", name="uq_failing_address_address"),
    )
    op.create_index("ix_failing_address_therapist_id", "failing_address", ["therapist_id"], unique=False)
    op.create_index("ix_failing_address_practice_id", "failing_address", ["practice_id"], unique=False)

    op.create_table(
        "capacity_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("available_from", sa.Date(), nullable=True),
        sa.Column("hours_per_week", sa.Integer(), nullable=True),
        sa.Column("pref_age_min", sa.Integer(), nullable=True),
        sa.Column("pref_age_max", sa.Integer(), nullable=True),
        sa.Column("pref_patient_gender", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist.id"], name="fk_capacity_report_therapist_id_therapist", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_capacity_report"),
    )
    op.create_index("ix_capacity_report_therapist_id", "capacity_report", ["therapist_id"], unique=False)
    # the weekly status mail goes to every patient with an active search unless they turned it off (Mein Stand)
    op.add_column("patient", sa.Column("wants_status_updates", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    op.drop_column("patient", "wants_status_updates")
    op.drop_index("ix_capacity_report_therapist_id", table_name="capacity_report")
    op.drop_table("capacity_report")
    op.drop_index("ix_failing_address_practice_id", table_name="failing_address")
    op.drop_index("ix_failing_address_therapist_id", table_name="failing_address")
    op.drop_table("failing_address")
    op.drop_index("ix_inbound_mail_open", table_name="inbound_mail")
    op.drop_index("ix_inbound_mail_inquiry_id", table_name="inbound_mail")
    op.drop_table("inbound_mail")
