"""Audit rows hash-chained: each row carries the hash of the row before it, kept by a trigger under a lock.

The trigger (not the app) fills id, prev_hash and row_hash, so every writer - the ORM, a bulk insert, a
hand-written INSERT - extends the same chain. It takes a transaction-level advisory lock first and draws
the id only then, so ids follow commit order and two writers never link to the same predecessor; a
transaction-level lock also works behind PgBouncer in transaction pooling. ``jobs.check_audit`` recomputes
the chain with the same SQL function and records the head it saw in audit_chain_check, so rows deleted
from the end are noticed too.

Revision ID: 0006_audit
Revises: 0005_auth
Create Date: 2026-12-01 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_audit"
down_revision: str | Sequence[str] | None = "0005_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a row's hash covers. Not actor_id: its foreign key is SET NULL when a staff user is deleted, a
# legitimate change; the actor column keeps who it was. Timestamps in UTC text so the session's TimeZone
# setting cannot change the hash.
DIGEST_FUNCTION = """
CREATE FUNCTION audit_event_digest(
    event_id bigint, occurred_at timestamptz, actor text, action text, entity_type text, entity_id text,
    details jsonb, reason text, prev_hash text
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        event_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor, action, entity_type, entity_id, details, reason, prev_hash
    )::text, 'UTF8')), 'hex')
$$
"""

# 7_244_010: the workbench's advisory-lock numbers start at 7_244 (see core/operations/runner.py).
CHAIN_FUNCTION = """
CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(7244010);
    NEW.id := nextval(pg_get_serial_sequence('audit_event', 'id'));
    SELECT row_hash INTO head FROM audit_event ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(head, repeat('0', 64));
    NEW.row_hash := audit_event_digest(NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type,
                                       NEW.entity_id, NEW.details, NEW.reason, NEW.prev_hash);
    RETURN NEW;
END
$$
"""

BACKFILL = """
DO $$
DECLARE
    r record;
    head text := repeat('0', 64);
BEGIN
    FOR r IN SELECT * FROM audit_event ORDER BY id LOOP
        UPDATE audit_event
           SET prev_hash = head,
               row_hash = audit_event_digest(r.id, r.occurred_at, r.actor, r.action, r.entity_type, r.entity_id,
                                             r.details, r.reason, head)
         WHERE id = r.id
        RETURNING row_hash INTO head;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_event", sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.execute(DIGEST_FUNCTION)
    op.execute(BACKFILL)
    op.alter_column("audit_event", "prev_hash", nullable=False)
    op.alter_column("audit_event", "row_hash", nullable=False)
    op.execute(CHAIN_FUNCTION)
    # the trigger draws the id under the lock; a column default would draw one more first (gaps of 2)
    op.execute("ALTER TABLE audit_event ALTER COLUMN id DROP DEFAULT")
    op.execute(
        "CREATE TRIGGER trg_audit_event_chain BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_chain()"
    )
    op.create_index("ix_audit_event_actor", "audit_event", ["actor"], unique=False)
    op.create_index("ix_audit_event_action", "audit_event", ["action"], unique=False)
    op.create_table(
        "audit_chain_check",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("rows_checked", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_check")),
    )


def downgrade() -> None:
    op.drop_table("audit_chain_check")
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.execute("DROP TRIGGER trg_audit_event_chain ON audit_event")
    op.execute(
        "ALTER TABLE audit_event ALTER COLUMN id SET DEFAULT nextval(pg_get_serial_sequence('audit_event', 'id'))"
    )
    op.execute("DROP FUNCTION audit_event_chain()")
    op.execute("DROP FUNCTION audit_event_digest(bigint, timestamptz, text, text, text, text, jsonb, text, text)")
    op.drop_column("audit_event", "row_hash")
    op.drop_column("audit_event", "prev_hash")
