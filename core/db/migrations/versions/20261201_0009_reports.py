"""Saved custom reports: name, owner, shared flag and the report definition (metric, dimensions, filters, period).

Revision ID: 0009_reports
Revises: 0008_sender
Create Date: 2026-12-01 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_reports"
down_revision: str | Sequence[str] | None = "0008_sender"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff_user.id"], name="fk_saved_report_owner_id_staff_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_saved_report"),
    )
    op.create_index("ix_saved_report_owner_id", "saved_report", ["owner_id"], unique=False)
    op.create_index(
        "uq_saved_report_owner_name", "saved_report", ["owner_id", sa.text("lower(name::text)")], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_saved_report_owner_name", table_name="saved_report")
    op.drop_index("ix_saved_report_owner_id", table_name="saved_report")
    op.drop_table("saved_report")
