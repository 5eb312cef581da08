"""Matching: the sequence behind inquiry references (A-2026-000123); merges the geo and therapist branches.

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-26 12:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Numbers only ever grow, so a reference of a replaced proposal is never handed out again.
    op.execute("CREATE SEQUENCE inquiry_reference_seq START WITH 1 MINVALUE 1 NO CYCLE")


def downgrade() -> None:
    op.execute("DROP SEQUENCE inquiry_reference_seq")
