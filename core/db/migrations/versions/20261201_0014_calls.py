"""Calls to patients with their outcome, follow-up tasks with a due date, and the flag for a wrong phone number.

Revision ID: 0014_calls
Revises: 0013_fk_indexes
Create Date: 2026-12-01 07:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_calls"
down_revision: str | Sequence[str] | None = "0013_fk_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def _staff(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["staff_user.id"], name=f"fk_{table}_{column}_staff_user", ondelete="SET NULL"
    )


def upgrade() -> None:
    op.add_column("patient", sa.Column("wrong_phone", sa.String(length=32), nullable=True))
    op.create_table(
        "patient_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _enum("patient_call_purpose", "status", "missing_data", "other"), nullable=False),
        sa.Column(
            "outcome",
            _enum("patient_call_outcome", "reached", "not_reached", "wrong_number", "callback_requested"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_patient_call_patient_id_patient", ondelete="CASCADE"
        ),
        _staff("staff_user_id", "patient_call"),
        sa.PrimaryKeyConstraint("id", name="pk_patient_call"),
    )
    op.create_index("ix_patient_call_patient_id_called_at", "patient_call", ["patient_id", "called_at"], unique=False)
    op.create_index("ix_patient_call_staff_user_id", "patient_call", ["staff_user_id"], unique=False)

    op.create_table(
        "followup_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            _enum("followup_task_kind", "call_back", "request_missing_data", "check_status", "check_phone", "other"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_followup_task_patient_id_patient", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["search_id"], ["search.id"], name="fk_followup_task_search_id_search", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["patient_call.id"], name="fk_followup_task_call_id_patient_call", ondelete="SET NULL"
        ),
        _staff("assignee_id", "followup_task"),
        _staff("created_by_id", "followup_task"),
        _staff("done_by_id", "followup_task"),
        sa.PrimaryKeyConstraint("id", name="pk_followup_task"),
    )
    op.create_index("ix_followup_task_patient_id", "followup_task", ["patient_id"], unique=False)
    for column in ("search_id", "call_id", "assignee_id", "created_by_id", "done_by_id"):
        op.create_index(f"ix_followup_task_{column}", "followup_task", [column], unique=False)
    op.create_index(
        "ix_followup_task_open_due_on",
        "followup_task",
        ["due_on"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("followup_task")  # its indexes go with it
    op.drop_table("patient_call")
    op.drop_column("patient", "wrong_phone")
