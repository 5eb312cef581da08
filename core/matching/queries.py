"""Read-only queries for the matching pages: proposals, one inquiry, inquiries awaiting answers, match history.

Rows are plain dicts (ready for a dataframe). Inquiries come grouped with their items; ages and waiting
times are as of the day the inquiry was created (what the practice was told). Example:

    for inquiry in list_proposals(session):
        inquiry["reference"], inquiry["therapist_name"], [i["patient_reference"] for i in inquiry["items"]]
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from core import clock
from core.audit import service as audit
from core.errors import NotFound, ValidationError
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome, Placement, reply_type
from core.matching.transitions import INQUIRY_TRANSITIONS, OPEN_STATUSES
from core.messages import Message
from core.patients.models import Patient, Search
from core.patients.rules import age_on
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist


def therapist_name(therapist: Therapist) -> str:
    return display_name(therapist.title, therapist.first_name, therapist.last_name)


def _item_row(item: InquiryItem, search: Search, patient: Patient, inquiry: Inquiry) -> dict[str, Any]:
    asked_on = clock.local_date(inquiry.created_at)
    return {
        "item_id": item.id,
        "search_id": search.id,
        "search_status": search.status,
        "patient_id": patient.id,
        "patient_reference": patient.reference,
        "patient_name": f"{patient.first_name} {patient.last_name}",
        "age": age_on(patient.birth_date, asked_on),
        "gender": patient.gender,
        "insurance_type": patient.insurance_type,
        "waiting_days": (asked_on - search.started_on).days,
        "outcome": item.outcome,
        "score": item.score,
        "factors": item.factors or [],
        "distance_km": item.distance_km,
        "is_exploration": item.is_exploration,
        "selection_probability": item.selection_probability,
        "answered_at": item.answered_at,
        "answer_source": item.answer_source,
        "answer_message": item.answer_message,
        "proposed_first_session": item.proposed_first_session,
        "is_conflict": item.is_conflict,
        "conflict_resolved_at": item.conflict_resolved_at,
    }


def _inquiry_row(inquiry: Inquiry, therapist: Therapist, practice: Practice | None) -> dict[str, Any]:
    return {
        "inquiry_id": inquiry.id,
        "reference": inquiry.reference,
        "status": inquiry.status,
        "version": inquiry.version,
        "matching_run": inquiry.matching_run,
        "created_at": inquiry.created_at,
        "approved_at": inquiry.approved_at,
        "sent_at": inquiry.sent_at,
        "reminded_at": inquiry.reminded_at,
        "call_scheduled_at": inquiry.call_scheduled_at,
        "answered_at": inquiry.answered_at,
        "closed_at": inquiry.closed_at,
        "override_reason": inquiry.override_reason,
        "therapist_id": therapist.id,
        "therapist_name": therapist_name(therapist),
        "therapist_status": therapist.status,
        "practice_id": practice.id if practice else None,
        "practice_name": practice.name if practice else None,
        "postcode": (practice.postcode if practice else None) or therapist.postcode,
        "city": (practice.city if practice else None) or therapist.city,
        "cooldown_until": practice.cooldown_until if practice else None,
        "last_contacted_at": practice.last_contacted_at if practice else None,
        "items": [],
    }


def _grouped(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Inquiry, Therapist, Practice, InquiryItem, Search, Patient)
        .join(Therapist, Therapist.id == Inquiry.therapist_id)
        .outerjoin(Practice, Practice.id == Inquiry.practice_id)
        .join(InquiryItem, InquiryItem.inquiry_id == Inquiry.id)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .where(*conditions)
        .order_by(Inquiry.id, InquiryItem.id)
    ).all()
    grouped: dict[int, dict[str, Any]] = {}
    for inquiry, therapist, practice, item, search, patient in rows:
        row = grouped.get(inquiry.id)
        if row is None:
            row = grouped[inquiry.id] = _inquiry_row(inquiry, therapist, practice)
        row["items"].append(_item_row(item, search, patient, inquiry))
    for row in grouped.values():
        row["reply_type"] = reply_type([i["outcome"] for i in row["items"]])
        row["expected_placements"] = round(sum(i["score"] or 0.0 for i in row["items"]), 4)
        row["pending_items"] = sum(i["outcome"] == ItemOutcome.PENDING for i in row["items"])
    return list(grouped.values())


def list_proposals(session: Session, *, region: str | None = None) -> list[dict[str, Any]]:
    """Return the unreviewed proposals grouped by inquiry, most expected placements first.

    With ``region`` (a PLZ prefix such as "10") only proposals to practices there.
    """
    conditions = [Inquiry.status == InquiryStatus.PROPOSED]
    if region:
        conditions.append(Therapist.postcode.startswith(region))
    rows = _grouped(session, *conditions)
    return sorted(rows, key=lambda r: (-r["expected_placements"], r["reference"]))


def inquiry_detail(session: Session, *, inquiry_id: int) -> dict[str, Any]:
    """Return one inquiry with its items, the states it may move to next, and its audit trail."""
    rows = _grouped(session, Inquiry.id == inquiry_id)
    if not rows:
        raise NotFound(
            Message(
                "not_found.inquiry_replaced",
                "Inquiry {key} does not exist (it may have been replaced by a newer matching run)",
                key=str(inquiry_id),
            )
        )
    row = rows[0]
    row["allowed_transitions"] = sorted(s.value for s in INQUIRY_TRANSITIONS[row["status"]])
    row["audit"] = [
        {"occurred_at": e.occurred_at, "actor": e.actor, "action": e.action, "reason": e.reason, "details": e.details}
        for e in reversed(audit.get_all(session, entity_type="inquiry", entity_id=inquiry_id, limit=100))
    ]
    return row


def open_inquiries_for_answers(session: Session) -> list[dict[str, Any]]:
    """Return the approved, queued, sent, reminded and call-scheduled inquiries that still wait for an answer.

    Every item is included (answered ones too, so mixed answers show); oldest sent first.
    """
    other = aliased(InquiryItem)
    pending = exists(select(other.id).where(other.inquiry_id == Inquiry.id, other.outcome == ItemOutcome.PENDING))
    rows = _grouped(session, Inquiry.status.in_(OPEN_STATUSES), pending)
    return sorted(rows, key=lambda r: (r["sent_at"] is None, r["sent_at"] or r["created_at"], r["inquiry_id"]))


def match_history(
    session: Session, *, patient_id: int | None = None, therapist_id: int | None = None
) -> list[dict[str, Any]]:
    """Return one row per inquiry item for a patient or a therapist, newest first (proposals included)."""
    if patient_id is None and therapist_id is None:
        raise ValidationError(
            Message("timeline.one_subject", "Give a patient_id or a therapist_id, e.g. patient_id=12"),
            field="patient_id",
        )
    query = (
        select(InquiryItem, Inquiry, Therapist, Practice, Search, Patient, Placement.id)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .join(Therapist, Therapist.id == Inquiry.therapist_id)
        .outerjoin(Practice, Practice.id == Inquiry.practice_id)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .outerjoin(Placement, Placement.inquiry_item_id == InquiryItem.id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc(), InquiryItem.id)
    )
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    if therapist_id is not None:
        query = query.where(Inquiry.therapist_id == therapist_id)
    return [
        {
            "item_id": item.id,
            "inquiry_id": inquiry.id,
            "reference": inquiry.reference,
            "inquiry_status": inquiry.status,
            "created_at": inquiry.created_at,
            "approved_at": inquiry.approved_at,
            "sent_at": inquiry.sent_at,
            "therapist_id": therapist.id,
            "therapist_name": therapist_name(therapist),
            "practice_name": practice.name if practice else None,
            "search_id": search.id,
            "patient_id": patient.id,
            "patient_reference": patient.reference,
            "patient_name": f"{patient.first_name} {patient.last_name}",
            "outcome": item.outcome,
            "answered_at": item.answered_at,
            "answer_source": item.answer_source,
            "score": item.score,
            "distance_km": item.distance_km,
            "is_exploration": item.is_exploration,
            "is_conflict": item.is_conflict,
            "placement_id": placement_id,
        }
        for item, inquiry, therapist, practice, search, patient, placement_id in session.execute(query)
    ]
