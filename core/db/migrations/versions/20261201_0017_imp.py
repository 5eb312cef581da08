"""Room on each therapist page for a second row version, so a directory import stamps "seen" without index work.

A nationwide import stamps last_verified_on and last_seen_on on three quarters of all therapists (issue 14).
Neither column is indexed, so PostgreSQL can write each new row version as a heap-only tuple (HOT) - no entry
in any of the table's 14 indexes - but only when the row's page has room for it. Packed full (fillfactor 100)
no page has: every stamp wrote 14 index entries (about 4 s of the import's server time). At fillfactor 50 a
page keeps room for a new version of each row (measured on the benchmark: 70 gave 47 % of 30,000 stamps as
HOT). The table is about twice as large on disk (50,000 rows: about 40 MB instead of 20 MB). Existing pages
fill their free space as rows move; ``VACUUM FULL therapist`` rewrites them at once.

Revision ID: 0017_imp
Revises: 0016_directory
Create Date: 2026-12-01 14:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_imp"
down_revision: str | Sequence[str] | None = "0016_directory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THERAPIST_FILLFACTOR = 50  # percent of a page filled by inserts: the rest is room for HOT updates


def upgrade() -> None:
    op.execute(f"ALTER TABLE therapist SET (fillfactor = {THERAPIST_FILLFACTOR})")


def downgrade() -> None:
    op.execute("ALTER TABLE therapist RESET (fillfactor)")
