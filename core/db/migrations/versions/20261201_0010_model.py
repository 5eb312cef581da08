"""Training data fixed at proposal time (features, model name and version per inquiry item) and the model registry.

Revision ID: 0010_model
Revises: 0009_reports
Create Date: 2026-12-01 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_model"
down_revision: str | Sequence[str] | None = "0009_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inquiry_item", sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("inquiry_item", sa.Column("model_name", sa.String(length=60), nullable=True))
    op.add_column("inquiry_item", sa.Column("model_version", sa.Integer(), nullable=True))
    op.create_table(
        "match_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column("test_start", sa.Date(), nullable=True),
        sa.Column("train_rows", sa.Integer(), nullable=False),
        sa.Column("test_rows", sa.Integer(), nullable=False),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("library_versions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.String(length=200), nullable=True),
        sa.Column("activation_reason", sa.Text(), nullable=True),
        sa.Column("previous_active_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_active_id"],
            ["match_model.id"],
            name="fk_match_model_previous_active_id_match_model",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_match_model"),
        sa.UniqueConstraint("version", name="uq_match_model_version"),
    )
    op.create_index(
        "uq_match_model_active", "match_model", ["is_active"], unique=True, postgresql_where=sa.text("is_active")
    )


def downgrade() -> None:
    op.drop_index("uq_match_model_active", table_name="match_model")
    op.drop_table("match_model")
    op.drop_column("inquiry_item", "model_version")
    op.drop_column("inquiry_item", "model_name")
    op.drop_column("inquiry_item", "features")
