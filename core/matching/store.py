"""Store a matching run's result as inquiries in state 'proposed', replacing the unreviewed proposals.

Idempotent: a re-run first deletes every inquiry still in state 'proposed' (with its items) and then stores
the new ones, so only what staff have not reviewed yet is replaced. Approved, sent or answered inquiries are
never touched. Example:

    stored = store_proposals(session, result=result, run_id="run-20261126-0700", actor="job:run_matching", now=now)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import ValidationError
from core.events import service as events
from core.matching import references
from core.matching.limits import local_today
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.proposals import MatchingResult
from core.messages import Message
from core.patients.models import Patient, Search


def check_result(result: MatchingResult, *, max_size: int) -> None:
    """Raise ValidationError if a proposed inquiry is empty, too large, or names a search twice."""
    for proposed in result.inquiries:
        size = len(proposed.items)
        if not 1 <= size <= max_size:
            raise ValidationError(
                Message(
                    "proposal.size",
                    "A proposed inquiry to therapist {therapist} has {count} patients; "
                    "it must have 1 to {maximum} (MATCH_INQUIRY_MAX_SIZE)",
                    therapist=str(proposed.therapist_id),
                    count=size,
                    maximum=max_size,
                ),
                field="items",
            )
        searches = [item.search_id for item in proposed.items]
        if len(set(searches)) != size:
            raise ValidationError(
                Message(
                    "proposal.search_twice",
                    "A proposed inquiry to therapist {therapist} names a search twice ({searches})",
                    therapist=str(proposed.therapist_id),
                    searches=str(sorted(searches)),
                ),
                field="items",
            )


def delete_unreviewed(session: Session, *, region: str | None = None) -> int:
    """Delete every inquiry still in state 'proposed' (with its items); return how many.

    With ``region`` (a 2-digit PLZ prefix) only proposals with a patient from that region are deleted.
    """
    query = select(Inquiry.id).where(Inquiry.status == InquiryStatus.PROPOSED)
    if region:
        in_region = (
            select(InquiryItem.id)
            .join(Search, Search.id == InquiryItem.search_id)
            .join(Patient, Patient.id == Search.patient_id)
            .where(InquiryItem.inquiry_id == Inquiry.id, Patient.postcode.startswith(region))
        )
        query = query.where(exists(in_region))
    ids = list(session.scalars(query))
    if ids:
        session.execute(delete(InquiryItem).where(InquiryItem.inquiry_id.in_(ids)))
        session.execute(delete(Inquiry).where(Inquiry.id.in_(ids)))
    return len(ids)


def store_proposals(
    session: Session,
    *,
    result: MatchingResult,
    run_id: str,
    actor: str,
    now: datetime,
    region: str | None = None,
    settings: Settings | None = None,
    actor_id: int | None = None,
) -> list[Inquiry]:
    """Replace the unreviewed proposals by ``result``'s inquiries (state 'proposed'); return the new ones."""
    settings = settings or get_settings()
    check_result(result, max_size=settings.match_inquiry_max_size)
    references.lock(session)  # two runs at once would each keep their own proposals
    replaced = delete_unreviewed(session, region=region)
    codes = references.allocate(session, count=len(result.inquiries), year=local_today(now, settings).year)
    stored: list[Inquiry] = []
    if result.inquiries:
        rows = [
            {
                "reference": code,
                "therapist_id": proposed.therapist_id,
                "practice_id": proposed.practice_id,
                "status": InquiryStatus.PROPOSED,
                "matching_run": run_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for code, proposed in zip(codes, result.inquiries, strict=True)
        ]
        # Core inserts of uniform rows go out in batches of 1,000 (insertmanyvalues); the ORM's bulk insert
        # splits rows whose None columns differ, which sent 15,000 nationwide items one by one (issue 13)
        table = Inquiry.__table__
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        by_id = {inquiry.id: inquiry for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)))}
        stored = [by_id[i] for i in ids]
        items = [
            {
                "inquiry_id": inquiry.id,
                "search_id": item.search_id,
                "outcome": ItemOutcome.PENDING,
                "score": item.score,
                "factors": [factor.as_dict() for factor in item.factors],
                "distance_km": None if item.distance_km is None else round(float(item.distance_km), 2),
                "is_exploration": item.is_exploration,
                "selection_probability": item.selection_probability,
                # training data fixed at proposal time (issue 12): what the score saw, and which model scored
                "features": item.features,
                "model_name": result.stats.get("model"),
                "model_version": result.stats.get("model_version"),
                "created_at": now,
            }
            for inquiry, proposed in zip(stored, result.inquiries, strict=True)
            for item in proposed.items
        ]
        session.execute(insert(InquiryItem.__table__), items)
    counts = {
        "replaced": replaced,
        "inquiries": len(stored),
        "items": sum(len(p.items) for p in result.inquiries),
        "exploration_items": sum(i.is_exploration for p in result.inquiries for i in p.items),
    }
    details = {**counts, "region": region} if region else counts
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="matching.proposals_stored",
        entity_type="matching_run",
        entity_id=run_id,
        details=details,
    )
    events.emit(session, "matching.proposals_stored", aggregate_type="matching_run", aggregate_id=run_id,
                payload=details)  # fmt: skip
    return stored
