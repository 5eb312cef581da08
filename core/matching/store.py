"""Store a matching run's result as inquiries in state 'proposed', replacing the unreviewed proposals.

Idempotent: a re-run first deletes every inquiry still in state 'proposed' (with its items) and then stores
the new ones, so only what staff have not reviewed yet is replaced. Approved, sent or answered inquiries are
never touched. Example:

    stored = store_proposals(session, result=result, run_id="run-20261126-0700", actor="job:run_matching", now=now)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.db.copy import copy_rows
from core.errors import ValidationError
from core.events import service as events
from core.matching import references
from core.matching.limits import local_today
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.proposals import Factor, MatchingResult
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
    ids = store_proposal_ids(session, result=result, run_id=run_id, actor=actor, now=now, region=region,
                             settings=settings, actor_id=actor_id)  # fmt: skip
    if not ids:
        return []
    by_id = {inquiry.id: inquiry for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)))}
    return [by_id[i] for i in ids]


def factors_json(factors: Sequence[Factor], fragments: dict[tuple[str, int], tuple[object, str, str]]) -> str:
    """Return ``json.dumps([factor.as_dict() for factor in factors])``, each distinct sentence encoded once.

    The pipeline shares one sentence object between the items that say the same (score.explain_rows), so
    ``fragments`` (keyed by code and the sentence's id; it holds the sentence, so the id stays its own) keeps the JSON
    before and after the weight: nationwide ~80,000 factors have a few thousand sentences (issue 13).
    """
    parts = []
    for factor in factors:
        key = (factor.code, id(factor.sentence))
        known = fragments.get(key)
        if known is None or known[0] is not factor.sentence:
            text = json.dumps({**factor.as_dict(), "weight": 0.0})  # the weight's place, filled in below
            head, tail = text.split('"weight": 0.0', 1)  # inside a JSON string every quote is escaped
            known = fragments[key] = (factor.sentence, head + '"weight": ', tail)
        weight = round(factor.weight, 4)
        parts.append(known[1] + (repr(weight) if math.isfinite(weight) else json.dumps(weight)) + known[2])
    return "[" + ", ".join(parts) + "]"


INQUIRY_COLUMNS = (
    *("id", "reference", "therapist_id", "practice_id", "status", "matching_run", "version"),
    *("created_at", "updated_at"),
)
ITEM_COLUMNS = (
    *("inquiry_id", "search_id", "outcome", "score", "factors", "distance_km", "is_exploration"),
    *("selection_probability", "features", "model_name", "model_version", "is_conflict", "created_at"),
)


def store_proposal_ids(
    session: Session,
    *,
    result: MatchingResult,
    run_id: str,
    actor: str,
    now: datetime,
    region: str | None = None,
    settings: Settings | None = None,
    actor_id: int | None = None,
) -> list[int]:
    """Like ``store_proposals``, but return only the new inquiries' ids (the nightly run loads no objects).

    The rows go in with COPY (core.db.copy): nationwide that is ~9,000 inquiries and ~27,000 items with
    their factors and features as JSON, where batched INSERTs took most of the run (issue 13). The ids come
    from the table's own sequence first, so items can name their inquiry without a round trip per row.
    """
    settings = settings or get_settings()
    check_result(result, max_size=settings.match_inquiry_max_size)
    references.lock(session)  # two runs at once would each keep their own proposals
    replaced = delete_unreviewed(session, region=region)
    codes = references.allocate(session, count=len(result.inquiries), year=local_today(now, settings).year)
    ids: list[int] = []
    if result.inquiries:
        session.flush()  # pending ORM writes go first, as they would before an INSERT
        ids = sorted(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('inquiry', 'id')) FROM generate_series(1, :n)"),
                {"n": len(result.inquiries)},
            )
        )
        fragments: dict[tuple[str, int], tuple[object, str, str]] = {}
        proposed_status = InquiryStatus.PROPOSED.value
        model_name, model_version = result.stats.get("model"), result.stats.get("model_version")
        copy_rows(
            session,
            "inquiry",
            INQUIRY_COLUMNS,
            (
                (inquiry_id, code, proposed.therapist_id, proposed.practice_id, proposed_status, run_id, 1, now, now)
                for inquiry_id, code, proposed in zip(ids, codes, result.inquiries, strict=True)
            ),
        )
        copy_rows(
            session,
            "inquiry_item",
            ITEM_COLUMNS,
            (
                (
                    inquiry_id,
                    item.search_id,
                    ItemOutcome.PENDING.value,
                    item.score,
                    factors_json(item.factors, fragments),
                    None if item.distance_km is None else round(float(item.distance_km), 2),
                    item.is_exploration,
                    item.selection_probability,
                    # training data fixed at proposal time (issue 12): what the score saw, and which model scored
                    None if item.features is None else json.dumps(item.features),
                    model_name,
                    model_version,
                    False,
                    now,
                )
                for inquiry_id, proposed in zip(ids, result.inquiries, strict=True)
                for item in proposed.items
            ),
        )
    counts = {
        "replaced": replaced,
        "inquiries": len(ids),
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
    return ids
