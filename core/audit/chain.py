"""Check the audit log's hash chain: find the first row that was altered, deleted or moved.

Each row's hash covers its content and the hash of the row before it (see migration 0006_audit), so:
an altered row no longer matches its own hash; a deleted or reordered row leaves the next row linked to
a hash that is not the one before it; rows deleted from the end are caught by the head that the last
passed check recorded in audit_chain_check. The whole chain is recomputed in one query by PostgreSQL.

Example:
    status = verify(session)
    status.ok, status.rows_checked, status.problem  # True, 1234, None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import core.db.models  # noqa: F401 - every mapped table, so audit_event's staff_user key resolves in a job process
from core.audit.models import AuditChainCheck, AuditEvent
from core.errors import JobError

GENESIS = "0" * 64  # prev_hash of the first row

_FIRST_BREAK = text(
    """
    SELECT id, action, occurred_at, prev_hash, row_hash, expected_prev, computed FROM (
        SELECT id, action, occurred_at, prev_hash, row_hash,
               coalesce(lag(row_hash) OVER (ORDER BY id), :genesis) AS expected_prev,
               audit_event_digest(id, occurred_at, actor, action, entity_type, entity_id, details, reason,
                                  prev_hash) AS computed
          FROM audit_event
    ) AS chain
    WHERE prev_hash IS DISTINCT FROM expected_prev OR row_hash IS DISTINCT FROM computed
    ORDER BY id
    LIMIT 1
    """
)


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    rows_checked: int
    last_event_id: int | None
    broken_event_id: int | None = None
    problem: str | None = None  # one sentence naming the first broken row and what to do


def verify(session: Session) -> ChainStatus:
    """Recompute the chain and compare it with the head of the last passed check; change nothing."""
    rows, last_id = session.execute(select(func.count(AuditEvent.id), func.max(AuditEvent.id))).one()
    broken = session.execute(_FIRST_BREAK, {"genesis": GENESIS}).mappings().first()
    if broken is not None:
        return ChainStatus(False, rows, last_id, broken["id"], _describe(broken, session))
    anchor = session.scalars(select(AuditChainCheck).order_by(AuditChainCheck.id.desc()).limit(1)).first()
    if anchor is not None and anchor.last_event_id is not None:
        kept = session.get(AuditEvent, anchor.last_event_id)
        if kept is None or kept.row_hash != anchor.last_hash:
            change = (
                "was deleted since (rows at the end of the log were removed)"
                if kept is None
                else ("was rewritten since (its hash differs from the one recorded then)")
            )
            problem = (
                f"Audit chain broken at row {anchor.last_event_id}: it was the newest row when the check of "
                f"{_when(anchor.checked_at)} passed and {change}. "
                "Restore audit_event from a backup and find out who changed it."
            )
            return ChainStatus(False, rows, last_id, anchor.last_event_id, problem)
    return ChainStatus(True, rows, last_id)


def _describe(row: Any, session: Session) -> str:
    where = f"Audit chain broken at row {row['id']} ({row['action']}, {_when(row['occurred_at'])})"
    if row["row_hash"] != row["computed"]:
        what = "its content no longer matches its hash: the row was altered or moved"
    else:
        before = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.id < row["id"]))
        after = f"row {before}" if before is not None else "the start of the log"
        what = (
            f"it is not linked to {after}, the row now before it: a row between them was deleted, "
            "or rows were reordered"
        )
    return f"{where}: {what}. Rows before it are intact; restore audit_event from a backup and find out who changed it."


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S %Z}"


def latest_check(session: Session) -> AuditChainCheck | None:
    """Return the newest passed check (for the audit page), or None if the chain was never checked."""
    return session.scalars(select(AuditChainCheck).order_by(AuditChainCheck.id.desc()).limit(1)).first()


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The ``check_audit`` job: raise JobError naming the first broken row, else record the head it saw."""
    status = verify(session)
    if not status.ok:
        raise JobError(status.problem)
    if not dry_run:
        head = session.get(AuditEvent, status.last_event_id) if status.last_event_id is not None else None
        session.add(
            AuditChainCheck(
                checked_at=now,
                rows_checked=status.rows_checked,
                last_event_id=status.last_event_id,
                last_hash=head.row_hash if head else None,
            )
        )
    return {"rows_checked": status.rows_checked, "last_event_id": status.last_event_id or 0}
