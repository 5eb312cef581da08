"""Sender claims: a mail claimed by a sender run (durably, per batch) but not yet handed over.

A crash of the sender leaves such mails re-queued automatically instead of in doubt; only a database
restart since the claim (when the sender's cheap per-mail commits may be lost) makes them doubtful.

Revision ID: 0008_sender
Revises: 0007_forms
Create Date: 2026-12-01 01:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_sender"
down_revision: str | Sequence[str] | None = "0007_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("email", sa.Column("claimed_by", sa.String(length=36), nullable=True))
    op.add_column("email", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("email", "claimed_at")
    op.drop_column("email", "claimed_by")
