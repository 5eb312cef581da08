"""Approving an inquiry and queueing its mail in ONE transaction (the transactional outbox of DESIGN 5).

Matching must not know about mail, so the use case that couples them lives here, in communication, which
may read every other domain. A practice without an e-mail address stays approved: the follow-up ladder
schedules a phone call for it at once. Example:

    with session_scope() as session:
        approve_and_queue(session, inquiry_id=4, actor="anna@example.org", now=now)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication.inbound_failing import failing_addresses
from core.communication.models import Email
from core.communication.outbox import enqueue, inquiry_context, patient_context, placement_context
from core.config import Settings, get_settings
from core.errors import WorkbenchError
from core.matching import service as matching
from core.matching.answers import AnswerResult
from core.matching.models import InquiryItem, ItemOutcome
from core.matching.review import ApprovalReport
from core.patients import service as patients
from core.patients.models import Search


def queue_inquiry_mail(
    session: Session,
    *,
    inquiry_id: int,
    actor: str,
    now: datetime,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> Email | None:
    """Queue the inquiry mail of an approved inquiry and mark it queued; None for a phone-only practice."""
    settings = settings or get_settings()
    context = inquiry_context(session, inquiry_id=inquiry_id, now=now, settings=settings)
    if not context.get("to_address") or failing_addresses(session, {context["to_address"]}):
        return None  # the follow-up ladder calls a practice without (working) e-mail at once
    inquiry = matching.inquiry_detail(session, inquiry_id=inquiry_id)
    email = enqueue(
        session,
        template="inquiry",
        to_address=context["to_address"],
        context=context,
        inquiry_id=inquiry_id,
        therapist_id=inquiry["therapist_id"],
        now=now,
        actor=actor,
    )
    matching.mark_queued(session, inquiry_id=inquiry_id, actor=actor, actor_id=actor_id, now=now)
    return email


def approve_and_queue(
    session: Session,
    *,
    inquiry_id: int,
    actor: str,
    now: datetime,
    override_reason: str | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> Email | None:
    """Approve a proposal (contact limits re-checked) and queue its mail in the caller's transaction."""
    matching.approve(
        session,
        inquiry_id=inquiry_id,
        actor=actor,
        actor_id=actor_id,
        now=now,
        override_reason=override_reason,
        settings=settings,
    )
    return queue_inquiry_mail(
        session, inquiry_id=inquiry_id, actor=actor, actor_id=actor_id, now=now, settings=settings
    )


def approve_many_and_queue(
    session: Session,
    *,
    inquiry_ids: Iterable[int],
    actor: str,
    now: datetime,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> list[ApprovalReport]:
    """Bulk approval; each approved inquiry's mail is queued with it (one savepoint per inquiry)."""
    reports = []
    for inquiry_id in inquiry_ids:
        savepoint = session.begin_nested()
        try:
            approve_and_queue(
                session, inquiry_id=inquiry_id, actor=actor, actor_id=actor_id, now=now, settings=settings
            )
        except WorkbenchError as exc:
            savepoint.rollback()
            reports.append(ApprovalReport(inquiry_id=inquiry_id, reference=None, approved=False, message=exc.message))
            continue
        savepoint.commit()
        reports.append(ApprovalReport(inquiry_id=inquiry_id, reference=None, approved=True, message="approved"))
    return reports


def start_search_and_notify(
    session: Session, *, patient_id: int, actor: str, today: date, now: datetime, actor_id: int | None = None
) -> Email | None:
    """Start a patient's search and queue the confirmation mail with it (None when the patient has no e-mail)."""
    patients.start_search(session, patient_id=patient_id, actor=actor, actor_id=actor_id, today=today)
    context = patient_context(session, patient_id=patient_id, now=now)
    if not context.get("to_address"):
        return None
    return enqueue(
        session,
        template="search_started",
        to_address=context["to_address"],
        context=context,
        language=context["language"],
        patient_id=patient_id,
        now=now,
        actor=actor,
    )


def notify_placement(session: Session, *, result: AnswerResult, actor: str, now: datetime) -> Email | None:
    """After an answer: queue the patient's placement mail if this answer placed the patient (not for conflicts)."""
    if result.outcome != ItemOutcome.ACCEPTED or result.is_conflict or not result.changed or not result.placement_id:
        return None
    context = placement_context(session, item_id=result.item_id)
    if not context.get("to_address"):
        return None
    patient_id = session.scalar(
        select(Search.patient_id)
        .join(InquiryItem, InquiryItem.search_id == Search.id)
        .where(InquiryItem.id == result.item_id)
    )
    return enqueue(
        session,
        template=context["template"],
        to_address=context["to_address"],
        context=context,
        language=context["language"],
        patient_id=patient_id,
        now=now,
        actor=actor,
    )
