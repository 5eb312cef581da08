"""Editing a proposal before approval: add a search, remove an item, swap the therapist. Each one audited.

An inquiry keeps 1..MATCH_INQUIRY_MAX_SIZE patients and never names a search twice; a swap re-checks the
contact limits for the new practice. Scores belong to the pair they were computed for, so an added item and
every item of a swapped inquiry carry no score (the factor says why). Example:

    add_search(session, inquiry_id=4, search_id=17, actor="anna@example.org", now=now)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.geo.distance import haversine_km
from core.matching import inquiries, limits
from core.matching.models import Inquiry, InquiryItem, ItemOutcome
from core.messages import Message, missing, status
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.models import Therapist, TherapistStatus


def _factor(code: str, sentence: str) -> list[dict[str, Any]]:
    return [{"code": code, "sentence": sentence, "weight": 0.0}]


def _distance(patient: Patient, therapist: Therapist) -> float | None:
    if None in (patient.latitude, patient.longitude, therapist.latitude, therapist.longitude):
        return None
    return round(float(haversine_km(patient.latitude, patient.longitude, therapist.latitude, therapist.longitude)), 2)


def _edited(session: Session, inquiry: Inquiry, change: str, *, actor: str, actor_id: int | None, **details) -> None:
    audit.record(session, actor=actor, actor_id=actor_id, action=f"inquiry.{change}", entity_type="inquiry",
                 entity_id=inquiry.id, details=details)  # fmt: skip
    events.emit(session, "inquiry.edited", aggregate_type="inquiry", aggregate_id=inquiry.id,
                payload={"reference": inquiry.reference, "change": change, **details})  # fmt: skip


def _therapist(session: Session, therapist_id: int) -> Therapist:
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(missing("therapist", therapist_id))
    return therapist


def add_search(
    session: Session,
    *,
    inquiry_id: int,
    search_id: int,
    actor: str,
    now: datetime,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> InquiryItem:
    """Add an active search to a proposal (up to MATCH_INQUIRY_MAX_SIZE patients, each search once)."""
    settings = settings or get_settings()
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    inquiries.require_proposal(inquiry)
    search = session.get(Search, search_id)
    if search is None:
        raise NotFound(missing("search", search_id))
    patient = session.get(Patient, search.patient_id)
    size, limit = len(inquiry.items), settings.match_inquiry_max_size
    if size >= limit:
        raise ValidationError(
            Message(
                "edit.inquiry_full",
                "Inquiry {inquiry} already has {count} patients (at most {limit}); remove one first",
                inquiry=inquiry.reference,
                count=size,
                limit=limit,
            ),
            field="search_id",
        )
    if any(item.search_id == search_id for item in inquiry.items):
        raise ValidationError(
            Message(
                "edit.patient_already_in",
                "Patient {patient} is already in inquiry {inquiry}",
                patient=patient.reference,
                inquiry=inquiry.reference,
            ),
            field="search_id",
        )
    if search.status != SearchStatus.ACTIVE:
        raise ValidationError(
            Message(
                "edit.search_not_active",
                "The search of patient {patient} is {status}; only active searches can be added",
                patient=patient.reference,
                status=status("search", search.status),
            ),
            field="search_id",
        )
    if inquiry.therapist_id in (search.excluded_therapist_ids or []) + (patient.excluded_therapist_ids or []):
        raise ValidationError(
            Message("edit.patient_excludes", "Patient {patient} excludes this therapist", patient=patient.reference),
            field="search_id",
        )
    therapist = _therapist(session, inquiry.therapist_id)
    item = InquiryItem(inquiry_id=inquiry.id, search_id=search.id, outcome=ItemOutcome.PENDING, score=None,
                       factors=_factor("added_by_staff", "added by staff (no score)"),
                       distance_km=_distance(patient, therapist), created_at=now)  # fmt: skip
    inquiry.items.append(item)
    inquiry.updated_at = func.now()  # an item change alone would leave the inquiry's version as it was
    session.flush()
    _edited(session, inquiry, "search_added", actor=actor, actor_id=actor_id, search_id=search.id, item_id=item.id)
    return item


def remove_item(session: Session, *, item_id: int, actor: str, now: datetime, actor_id: int | None = None) -> Inquiry:
    """Remove one patient from a proposal; the last one cannot go (discard the inquiry instead)."""
    item = inquiries.get_item(session, item_id=item_id)
    inquiry = inquiries.get(session, inquiry_id=item.inquiry_id, for_update=True)
    inquiries.require_proposal(inquiry)
    if len(inquiry.items) <= 1:
        raise ValidationError(
            Message(
                "edit.last_patient",
                "Inquiry {inquiry} needs at least one patient; discard the inquiry instead",
                inquiry=inquiry.reference,
            ),
            field="item_id",
        )
    search_id = item.search_id
    inquiry.items.remove(item)
    session.delete(item)
    inquiry.updated_at = func.now()  # an item change alone would leave the inquiry's version as it was
    session.flush()
    _edited(session, inquiry, "item_removed", actor=actor, actor_id=actor_id, search_id=search_id, item_id=item_id)
    return inquiry


def swap_therapist(
    session: Session,
    *,
    inquiry_id: int,
    therapist_id: int,
    actor: str,
    now: datetime,
    override_reason: str | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> Inquiry:
    """Send a proposal to another therapist; the new practice's contact limits are checked first.

    Raises ContactLimitExceeded unless ``override_reason`` is given (then stored and audited).
    """
    settings = settings or get_settings()
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    inquiries.require_proposal(inquiry)
    therapist = _therapist(session, therapist_id)
    if therapist.id == inquiry.therapist_id:
        raise ValidationError(
            Message(
                "edit.same_therapist", "Inquiry {inquiry} already goes to this therapist", inquiry=inquiry.reference
            ),
            field="therapist_id",
        )
    if therapist.status != TherapistStatus.ACTIVE:
        raise ValidationError(
            Message(
                "edit.therapist_not_active",
                "Therapist {name} is {status}; choose an active one",
                name=f"{therapist.first_name} {therapist.last_name}",
                status=status("therapists", therapist.status),
            ),
            field="therapist_id",
        )
    rows = session.execute(
        select(InquiryItem, Patient, Search)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .where(InquiryItem.inquiry_id == inquiry.id)
    ).all()
    for _item, patient, search in rows:
        if therapist.id in (search.excluded_therapist_ids or []) + (patient.excluded_therapist_ids or []):
            raise ValidationError(
                Message(
                    "edit.patient_excludes_swap",
                    "Patient {patient} excludes this therapist; remove the patient first",
                    patient=patient.reference,
                ),
                field="therapist_id",
            )
    violations = limits.check(
        session,
        therapist_id=therapist.id,
        practice_id=therapist.practice_id,
        search_ids=[],
        exclude_inquiry_id=inquiry.id,
        today=limits.local_today(now, settings),
        now=now,
        settings=settings,
    )
    reason = (override_reason or "").strip()
    if violations and not reason:
        raise limits.ContactLimitExceeded(inquiry.reference, violations)
    previous = inquiry.therapist_id
    inquiry.therapist_id, inquiry.practice_id = therapist.id, therapist.practice_id
    inquiry.override_reason = reason if violations else None
    inquiry.updated_at = func.now()
    for item, patient, _search in rows:
        item.distance_km = _distance(patient, therapist)
        item.score, item.is_exploration, item.selection_probability = None, False, None
        item.factors = _factor("therapist_swapped", "therapist swapped by staff (no score)")
    session.flush()
    _edited(session, inquiry, "therapist_swapped", actor=actor, actor_id=actor_id,
            from_therapist_id=previous, to_therapist_id=therapist.id)  # fmt: skip
    if violations:
        audit.record(session, actor=actor, actor_id=actor_id, action="inquiry.contact_limit_override",
                     entity_type="inquiry", entity_id=inquiry.id, reason=reason,
                     details={"rules": [v.rule for v in violations], "step": "swap"})  # fmt: skip
    return inquiry
