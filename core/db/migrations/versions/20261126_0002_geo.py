"""Geocoding: the shared request slot that keeps Nominatim at one request per second across processes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_slot",
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("last_request_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_rate_limit_slot")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_slot")
