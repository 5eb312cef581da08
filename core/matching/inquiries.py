"""Loading inquiries and items, moving an inquiry through its states, and closing it when nothing is pending.

Shared by review, answers and conflict resolution. Example:

    inquiry = get(session, inquiry_id=4, for_update=True)
    move(session, inquiry, InquiryStatus.QUEUED, actor="job:send_mail")
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.audit import service as audit
from core.errors import IllegalTransition, NotFound
from core.events import service as events
from core.matching import transitions
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.messages import Message, status
from core.patients.models import Patient, Search


def get(session: Session, *, inquiry_id: int, for_update: bool = False) -> Inquiry:
    """Return the inquiry (row-locked if ``for_update``) or raise NotFound."""
    query = select(Inquiry).where(Inquiry.id == inquiry_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    inquiry = session.scalar(query)
    if inquiry is None:
        raise NotFound(
            Message(
                "not_found.inquiry_replaced",
                "Inquiry {key} does not exist (it may have been replaced by a newer matching run)",
                key=str(inquiry_id),
            )
        )
    return inquiry


def get_item(session: Session, *, item_id: int, for_update: bool = False) -> InquiryItem:
    """Return the inquiry item (row-locked if ``for_update``) or raise NotFound."""
    query = select(InquiryItem).where(InquiryItem.id == item_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    item = session.scalar(query)
    if item is None:
        raise NotFound(
            Message(
                "not_found.inquiry_item_replaced",
                "Inquiry item {key} does not exist (it may have been replaced by a newer matching run)",
                key=str(item_id),
            )
        )
    return item


def item_label(session: Session, item: InquiryItem) -> Message:
    """Return e.g. 'Patient P-7K3F9Q in inquiry A-2026-000123' for messages."""
    reference = session.scalar(
        select(Patient.reference).join(Search, Search.patient_id == Patient.id).where(Search.id == item.search_id)
    )
    return Message(
        "label.item", "Patient {patient} in inquiry {inquiry}", patient=reference, inquiry=item.inquiry.reference
    )


def require_proposal(inquiry: Inquiry) -> None:
    """Raise IllegalTransition unless the inquiry is still an unreviewed proposal (the only editable state)."""
    if inquiry.status != InquiryStatus.PROPOSED:
        raise IllegalTransition(
            Message(
                "edit.not_a_proposal",
                "Inquiry {inquiry} is '{status}'; only proposals (state 'proposed') can be edited",
                inquiry=inquiry.reference,
                status=status("inquiry", inquiry.status),
            )
        )


def move(
    session: Session,
    inquiry: Inquiry,
    target: InquiryStatus,
    *,
    actor: str,
    actor_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Move ``inquiry`` to ``target`` if the table allows it; audit and emit the change."""
    transitions.check_inquiry(inquiry.status, target, label=inquiry.reference)
    previous = inquiry.status
    inquiry.status = target
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action=f"inquiry.{target.value}",
        entity_type="inquiry",
        entity_id=inquiry.id,
        reason=reason,
        details={"from": previous.value, "to": target.value, **(details or {})},
    )
    events.emit(
        session,
        f"inquiry.{target.value}",
        aggregate_type="inquiry",
        aggregate_id=inquiry.id,
        payload={"reference": inquiry.reference, "therapist_id": inquiry.therapist_id, "from": previous.value},
    )


def move_all(
    session: Session,
    moves: list[tuple[Inquiry, dict[str, Any]]],
    target: InquiryStatus,
    *,
    actor: str,
    values: dict[str, Any] | None = None,
) -> None:
    """``move`` for many locked inquiries at once: one UPDATE (also setting ``values``), bulk audit rows and events.

    ``moves`` pairs each inquiry with its audit details; the rows written are those of ``move``, one by one.
    The inquiries must be locked by the caller (FOR UPDATE), as the version check is skipped.
    """
    if not moves:
        return
    for inquiry, _details in moves:
        transitions.check_inquiry(inquiry.status, target, label=inquiry.reference)
    previous = {inquiry.id: inquiry.status for inquiry, _details in moves}
    values = values or {}
    table = Inquiry.__table__
    # a Core UPDATE ... RETURNING and the new values set on the objects: the ORM's "fetch" synchronisation
    # evaluates every object one by one (a third of a 2,000-inquiry move)
    changed = session.execute(
        update(table)
        .where(table.c.id == any_(bindparam("ids", list(previous), type_=ARRAY(Integer))))
        .values(status=target, version=table.c.version + 1, **values)
        .returning(table.c.id, table.c.version, table.c.updated_at)
    ).all()
    fresh = {row.id: row for row in changed}
    for inquiry, _details in moves:
        row = fresh[inquiry.id]
        for key, value in (("status", target), *values.items(), ("version", row.version),
                           ("updated_at", row.updated_at)):  # fmt: skip
            set_committed_value(inquiry, key, value)
    audit.record_all(session, actor=actor, action=f"inquiry.{target.value}", entity_type="inquiry",
                     rows=[(inquiry.id, {"from": previous[inquiry.id].value, "to": target.value, **details})
                           for inquiry, details in moves])  # fmt: skip
    events.emit_all(session, f"inquiry.{target.value}", aggregate_type="inquiry", events=[
        (inquiry.id, {"reference": inquiry.reference, "therapist_id": inquiry.therapist_id,
                      "from": previous[inquiry.id].value})
        for inquiry, _details in moves
    ])  # fmt: skip


def settle(session: Session, inquiry: Inquiry, *, actor: str, now: datetime, actor_id: int | None = None) -> None:
    """Close an inquiry once none of its items is pending.

    A proposal or an approved inquiry whose patients were all placed elsewhere (every item withdrawn) is
    discarded: it was never sent. Otherwise an open inquiry becomes 'answered' when the practice answered
    at least one item, else 'expired' (see ``transitions.closing_status``).
    """
    outcomes = [item.outcome for item in inquiry.items]
    if not outcomes or ItemOutcome.PENDING in outcomes:
        return
    placed_elsewhere = all(outcome == ItemOutcome.WITHDRAWN for outcome in outcomes)
    if placed_elsewhere and inquiry.status in (InquiryStatus.PROPOSED, InquiryStatus.APPROVED):
        move(session, inquiry, InquiryStatus.DISCARDED, actor=actor, actor_id=actor_id,
             reason="every patient of this inquiry was placed elsewhere")  # fmt: skip
        inquiry.closed_at = now
    elif inquiry.status in transitions.OPEN_STATUSES:
        target = transitions.closing_status(outcomes)
        move(session, inquiry, target, actor=actor, actor_id=actor_id)
        if target == InquiryStatus.EXPIRED:
            inquiry.closed_at = now
