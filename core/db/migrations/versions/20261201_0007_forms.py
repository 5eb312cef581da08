"""Patient names are found regardless of case, accents and invisible characters ("Cosic" finds "Ćosić").

search_fold(text) folds a name the way staff type it: without zero-width and other format characters,
without accents (unaccent: ć -> c, ë -> e, ß -> ss), in lower case; search_full_name(first, last) folds "first last". Quick search, the patient list and the
duplicate check compare search_fold() of both sides; a trigram index serves LIKE '%x%' on the full name and a
pattern index the last name (equality and prefixes). unaccent and pg_trgm are contrib extensions that a
database owner may create on any PostgreSQL 13+ server ("trusted" extensions).

Names stored before this revision lose their invisible characters once, as new input does in core.

Revision ID: 0007_forms
Revises: 0006_audit
Create Date: 2026-12-01 01:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_forms"
down_revision: str | Sequence[str] | None = "0006_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Soft hyphen, zero-width space/joiners, direction marks, word joiner and invisible operators, BOM
INVISIBLE = "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # IMMUTABLE so that indexes may use it; the dictionary is named explicitly, so the result does not
    # depend on the search_path of the session that calls it
    op.execute(
        f"""
        CREATE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN lower(unaccent('unaccent'::regdictionary, regexp_replace(value, '{INVISIBLE}', '', 'g')))
        """
    )
    op.execute(
        """
        CREATE FUNCTION search_full_name(first_name text, last_name text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN search_fold(first_name || ' ' || last_name)
        """
    )
    for column in ("first_name", "last_name"):
        op.execute(
            f"UPDATE patient SET {column} = regexp_replace({column}, '{INVISIBLE}', '', 'g') "  # noqa: S608 - fixed column names and a constant pattern, no input
            f"WHERE {column} ~ '{INVISIBLE}'"
        )
    op.create_index(
        "ix_patient_full_name_folded",
        "patient",
        [sa.text("search_full_name(first_name, last_name) gin_trgm_ops")],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_patient_last_name_folded",
        "patient",
        [sa.text("search_fold(last_name::text) text_pattern_ops")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_patient_last_name_folded", table_name="patient")
    op.drop_index("ix_patient_full_name_folded", table_name="patient")
    op.execute("DROP FUNCTION search_full_name(text, text)")
    op.execute("DROP FUNCTION search_fold(text)")
    # the extensions stay: other objects may have come to use them
