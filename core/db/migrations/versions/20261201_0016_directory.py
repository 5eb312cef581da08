"""Directory import (issue 14): import history, per-field changes, directory listings, review queue, layouts.

Revision ID: 0016_directory
Revises: 0015_drafts
Create Date: 2026-12-01 07:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_directory"
down_revision: str | Sequence[str] | None = "0015_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "directory_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("file_names", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("imported_on", sa.Date(), nullable=False),
        sa.Column("covered_postcodes", sa.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_directory_import"),
    )
    op.create_table(
        "directory_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["directory_import.id"], name="fk_directory_change_import_id_directory_import",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist.id"], name="fk_directory_change_therapist_id_therapist", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_directory_change"),
    )  # fmt: skip
    op.create_index("ix_directory_change_import_id", "directory_change", ["import_id"], unique=False)
    op.create_index("ix_directory_change_therapist_id", "directory_change", ["therapist_id"], unique=False)
    op.create_table(
        "directory_listing",
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("consultation_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("last_import_id", sa.Integer(), nullable=True),
        sa.Column("not_seen_since", sa.Date(), nullable=True),
        sa.Column("missed_imports", sa.Integer(), nullable=False),
        sa.Column("deactivated_by_import", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist.id"], name="fk_directory_listing_therapist_id_therapist", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["last_import_id"], ["directory_import.id"], name="fk_directory_listing_last_import_id_directory_import",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("therapist_id", name="pk_directory_listing"),
    )  # fmt: skip
    op.create_index("ix_directory_listing_last_import_id", "directory_listing", ["last_import_id"], unique=False)
    op.create_table(
        "directory_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("differs", sa.String(length=16), nullable=False),
        sa.Column("entry", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.String(length=254), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["import_id"], ["directory_import.id"], name="fk_directory_review_import_id_directory_import",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist.id"], name="fk_directory_review_therapist_id_therapist", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_directory_review"),
    )  # fmt: skip
    op.create_index("ix_directory_review_import_id", "directory_review", ["import_id"], unique=False)
    op.create_index("ix_directory_review_therapist_id", "directory_review", ["therapist_id"], unique=False)
    op.create_table(
        "directory_layout",
        sa.Column("signature", sa.String(length=16), nullable=False),
        sa.Column("headers", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("mapping", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("signature", name="pk_directory_layout"),
    )


def downgrade() -> None:
    op.drop_table("directory_layout")
    op.drop_index("ix_directory_review_therapist_id", table_name="directory_review")
    op.drop_index("ix_directory_review_import_id", table_name="directory_review")
    op.drop_table("directory_review")
    op.drop_index("ix_directory_listing_last_import_id", table_name="directory_listing")
    op.drop_table("directory_listing")
    op.drop_index("ix_directory_change_therapist_id", table_name="directory_change")
    op.drop_index("ix_directory_change_import_id", table_name="directory_change")
    op.drop_table("directory_change")
    op.drop_table("directory_import")
