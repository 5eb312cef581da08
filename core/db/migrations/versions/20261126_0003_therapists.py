"""Therapists: indexes for the list (sort, filters), quick search, duplicate checks and the unblock job.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_therapist_name_sort",
        "therapist",
        [sa.text("lower(last_name)"), sa.text("lower(first_name)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_therapist_last_name_prefix",
        "therapist",
        [sa.text("lower(last_name) text_pattern_ops")],
        unique=False,
    )
    op.create_index(
        "ix_therapist_first_name_prefix",
        "therapist",
        [sa.text("lower(first_name) text_pattern_ops")],
        unique=False,
    )
    op.create_index(
        "ix_therapist_postcode_prefix",
        "therapist",
        ["postcode"],
        unique=False,
        postgresql_ops={"postcode": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_therapist_procedures",
        "therapist",
        ["procedures"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"procedures": "jsonb_path_ops"},
    )
    op.create_index("ix_therapist_languages", "therapist", ["languages"], unique=False, postgresql_using="gin")
    op.create_index("ix_therapist_email_lower", "therapist", [sa.text("lower(email)")], unique=False)
    op.create_index("ix_therapist_phone", "therapist", ["phone"], unique=False)
    op.create_index(
        "ix_therapist_blocked_until",
        "therapist",
        ["status_until"],
        unique=False,
        postgresql_where=sa.text("status = 'blocked'"),
    )


def downgrade() -> None:
    for name in (
        "ix_therapist_blocked_until",
        "ix_therapist_phone",
        "ix_therapist_email_lower",
        "ix_therapist_languages",
        "ix_therapist_procedures",
        "ix_therapist_postcode_prefix",
        "ix_therapist_first_name_prefix",
        "ix_therapist_last_name_prefix",
        "ix_therapist_name_sort",
    ):
        op.drop_index(name, table_name="therapist")
