"""Auth: server-side login sessions, per-address login throttle, one-time password resets, TOTP.

Failure counting moves from staff_user to login_throttle (keyed by a hash of the address, known or
not), so a lock no longer tells an attacker that an account exists and parallel guesses no longer
collide on staff_user's version column.

Revision ID: 0005_auth
Revises: 0004
Create Date: 2026-12-01 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_auth"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "staff", "manager", "analyst")


def upgrade() -> None:
    op.add_column(
        "staff_user",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("staff_user", sa.Column("totp_secret_sealed", sa.Text(), nullable=True))
    op.add_column("staff_user", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.drop_column("staff_user", "failed_logins")
    op.drop_column("staff_user", "locked_until")

    op.create_table(
        "login_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="role", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_login_session_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
    )
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"], unique=False)

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )

    op.create_table(
        "password_reset",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_password_reset_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_user.id"],
            name=op.f("fk_password_reset_created_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset")),
    )
    op.create_index("ix_password_reset_user_id", "password_reset", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_password_reset_user_id", table_name="password_reset")
    op.drop_table("password_reset")
    op.drop_table("login_throttle")
    op.drop_index("ix_login_session_user_id", table_name="login_session")
    op.drop_table("login_session")
    op.add_column("staff_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("staff_user", sa.Column("failed_logins", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.drop_column("staff_user", "totp_last_step")
    op.drop_column("staff_user", "totp_secret_sealed")
    op.drop_column("staff_user", "must_change_password")
