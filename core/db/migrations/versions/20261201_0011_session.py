"""Login sessions that survive a reload: the browser's HTTP-only cookie and the one-time code exchanged for it.

``cookie_digest`` is the SHA-256 of the random token in the browser's cookie, ``handoff_digest`` the SHA-256
of the one-time code (valid until ``handoff_until``) that the page posts to /auth/session right after the
login to receive that cookie. Both end with the session (logout, timeout, deactivation).

Revision ID: 0011_session
Revises: 0010_model
Create Date: 2026-12-01 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_session"
down_revision: str | Sequence[str] | None = "0010_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("login_session", sa.Column("cookie_digest", sa.String(length=64), nullable=True))
    op.add_column("login_session", sa.Column("handoff_digest", sa.String(length=64), nullable=True))
    op.add_column("login_session", sa.Column("handoff_until", sa.DateTime(timezone=True), nullable=True))
    op.create_unique_constraint("uq_login_session_cookie_digest", "login_session", ["cookie_digest"])
    op.create_unique_constraint("uq_login_session_handoff_digest", "login_session", ["handoff_digest"])


def downgrade() -> None:
    op.drop_constraint("uq_login_session_handoff_digest", "login_session", type_="unique")
    op.drop_constraint("uq_login_session_cookie_digest", "login_session", type_="unique")
    op.drop_column("login_session", "handoff_until")
    op.drop_column("login_session", "handoff_digest")
    op.drop_column("login_session", "cookie_digest")
