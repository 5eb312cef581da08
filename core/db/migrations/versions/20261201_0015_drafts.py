"""Form drafts: unsaved form input per login session and form, sealed, so a reload gives it back.

Revision ID: 0015_drafts
Revises: 0014_calls
Create Date: 2026-12-01 07:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_drafts"
down_revision: str | Sequence[str] | None = "0014_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_session_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=100), nullable=False),
        sa.Column("sealed_values", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_session.id"],
            name="fk_form_draft_login_session_id_login_session",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name="fk_form_draft_user_id_staff_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_draft"),
        sa.UniqueConstraint("login_session_id", "form_key", name="uq_form_draft_login_session_id_form_key"),
    )
    op.create_index("ix_form_draft_login_session_id", "form_draft", ["login_session_id"], unique=False)
    op.create_index("ix_form_draft_user_id", "form_draft", ["user_id"], unique=False)
    op.create_index("ix_form_draft_updated_at", "form_draft", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_form_draft_updated_at", table_name="form_draft")
    op.drop_index("ix_form_draft_user_id", table_name="form_draft")
    op.drop_index("ix_form_draft_login_session_id", table_name="form_draft")
    op.drop_table("form_draft")
