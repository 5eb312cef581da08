"""Indexes on the foreign keys that had none, so deleting or updating a referenced row never scans.

``placement.inquiry_item_id`` (ON DELETE SET NULL) made every matching run scan ``placement`` once per
deleted unreviewed item (over 2 s for 5,851 items, issue 13); the staff-user references had the same
problem for deleting a staff user. tests/integration/test_foreign_key_indexes.py keeps it that way.

Revision ID: 0013_fk_indexes
Revises: 0012_inbox
Create Date: 2026-12-01 04:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_fk_indexes"
down_revision: str | Sequence[str] | None = "0012_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_placement_inquiry_item_id", "placement", "inquiry_item_id"),
    ("ix_inquiry_approved_by_id", "inquiry", "approved_by_id"),
    ("ix_audit_event_actor_id", "audit_event", "actor_id"),
    ("ix_consent_recorded_by_id", "consent", "recorded_by_id"),
    ("ix_password_reset_created_by_id", "password_reset", "created_by_id"),
    ("ix_phone_call_staff_user_id", "phone_call", "staff_user_id"),
    ("ix_inbound_mail_email_id", "inbound_mail", "email_id"),
    ("ix_failing_address_inbound_mail_id", "failing_address", "inbound_mail_id"),
    ("ix_match_model_previous_active_id", "match_model", "previous_active_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
