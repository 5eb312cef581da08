"""Conflicts: a practice accepted a patient who had already been placed. Staff offer another patient or close.

Example:
    rows = list_conflicts(session)
    options = suggest_waiting_patients(session, therapist_id=rows[0]["therapist_id"], today=today)
    resolve_conflict(session, item_id=rows[0]["item_id"], action="offer", other_search_id=options[0]["search_id"],
                     actor="anna@example.org", now=now)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import any_, func, literal, select
from sqlalchemy.orm import Session, aliased

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.geo.distance import haversine_km
from core.geo.travel import estimate_minutes
from core.matching import inquiries, limits, references
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome, Placement
from core.matching.transitions import OPEN_STATUSES
from core.messages import Message, missing, status
from core.patients.models import Patient, Search, SearchStatus
from core.patients.rules import age_on
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist

ACTIONS = ("offer", "close")
CONFLICT_OVERRIDE = "conflict resolution"
ADULT_AGE = 18  # adults vs children/youth procedures
DEFAULT_RADIUS_KM = 15.0  # Patient.max_distance_km default, for patients who gave only a travel time


def _name(therapist: Therapist) -> str:
    return display_name(therapist.title, therapist.first_name, therapist.last_name)


def list_conflicts(session: Session) -> list[dict[str, Any]]:
    """Return every unresolved conflict: the late acceptance, the patient, and where the patient was placed."""
    placed_with = aliased(Therapist)
    rows = session.execute(
        select(InquiryItem, Inquiry, Therapist, Practice, Search, Patient, Placement, placed_with)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .join(Therapist, Therapist.id == Inquiry.therapist_id)
        .outerjoin(Practice, Practice.id == Inquiry.practice_id)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .outerjoin(Placement, Placement.search_id == Search.id)
        .outerjoin(placed_with, placed_with.id == Placement.therapist_id)
        .where(InquiryItem.is_conflict.is_(True), InquiryItem.conflict_resolved_at.is_(None))
        .order_by(InquiryItem.answered_at, InquiryItem.id)
    ).all()
    return [
        {
            "item_id": item.id,
            "inquiry_id": inquiry.id,
            "inquiry_reference": inquiry.reference,
            "therapist_id": therapist.id,
            "therapist_name": _name(therapist),
            "practice_name": practice.name if practice else None,
            "search_id": search.id,
            "search_status": search.status,
            "patient_id": patient.id,
            "patient_reference": patient.reference,
            "patient_name": f"{patient.first_name} {patient.last_name}",
            "answered_at": item.answered_at,
            "answer_source": item.answer_source,
            "answer_message": item.answer_message,  # the practice's own words: free text, show it as plain text
            "proposed_first_session": item.proposed_first_session,
            "placed_with_therapist_id": placed.id if placed else None,
            "placed_with_name": _name(placed) if placed else None,
            "placed_on": placement.placed_on if placement else None,
        }
        for item, inquiry, therapist, practice, search, patient, placement, placed in rows
    ]


def _relaxed(search: Search, rule: str) -> Any:
    return next((r["value"] for r in search.relaxations or [] if r.get("rule") == rule), None)


def _offers(therapist: Therapist, *, procedures: set[str], setting_wish: str, age_group: str) -> bool:
    settings_ok = {"individual": {"individual"}, "group": {"group"}, "either": {"individual", "group"}}[setting_wish]
    return any(
        (not procedures or offer.get("procedure") in procedures)
        and offer.get("setting") in settings_ok
        and offer.get("age_group") == age_group
        for offer in therapist.procedures or []
    )


def suggest_waiting_patients(
    session: Session, *, therapist_id: int, limit: int = 5, today: date | None = None
) -> list[dict[str, Any]]:
    """Return up to ``limit`` active searches the therapist could take, longest waiting first.

    Basic filters only (distance or travel time within the patient's limit, procedure, setting, age group,
    exclusions; relaxations count); "Why not?" (core.matching.explain) has the full rule set. Ages and
    waiting days are as of ``today`` (default: the database's current date).
    """
    today = today or session.scalar(select(func.current_date()))
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(missing("therapist", therapist_id))
    if therapist.latitude is None or therapist.longitude is None:
        return []
    already_asked = (
        select(InquiryItem.search_id)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .where(
            Inquiry.therapist_id == therapist_id,
            InquiryItem.outcome == ItemOutcome.PENDING,
            Inquiry.status.in_([InquiryStatus.PROPOSED, *OPEN_STATUSES]),
        )
    )
    rows = session.execute(
        select(Search, Patient)
        .join(Patient, Patient.id == Search.patient_id)
        .where(
            Search.status == SearchStatus.ACTIVE,
            Patient.latitude.is_not(None),
            Search.id.not_in(already_asked),
            ~(literal(therapist_id) == any_(Search.excluded_therapist_ids)),
            ~(literal(therapist_id) == any_(Patient.excluded_therapist_ids)),
        )
        .order_by(Search.started_on, Search.id)
    ).all()
    if not rows:
        return []
    km = haversine_km(
        np.array([p.latitude for _, p in rows]), np.array([p.longitude for _, p in rows]),
        therapist.latitude, therapist.longitude,
    )  # fmt: skip
    found = []
    for (search, patient), distance in zip(rows, km, strict=True):
        max_km, max_minutes = patient.max_distance_km, patient.max_travel_minutes
        if _relaxed(search, "distance") is not None:  # a relaxed limit replaces both (as the pipeline reads it)
            max_km, max_minutes = _relaxed(search, "distance"), None
        elif _relaxed(search, "travel_time") is not None:
            max_km, max_minutes = None, _relaxed(search, "travel_time")
        if max_km is None and max_minutes is None:
            max_km = DEFAULT_RADIUS_KM
        if max_km is not None and not distance <= float(max_km):
            continue
        if max_minutes is not None and not estimate_minutes(distance, patient.transport_mode.value) <= max_minutes:
            continue
        age = age_on(patient.birth_date, today)
        procedures = set() if _relaxed(search, "procedure") == "any" else set(patient.procedure_wishes or [])
        setting = _relaxed(search, "setting") or patient.setting_wish.value
        age_group = "adults" if age >= ADULT_AGE else "children_youth"
        if not _offers(therapist, procedures=procedures, setting_wish=setting, age_group=age_group):
            continue
        found.append(
            {
                "search_id": search.id,
                "patient_id": patient.id,
                "patient_reference": patient.reference,
                "patient_name": f"{patient.first_name} {patient.last_name}",
                "age": age,
                "started_on": search.started_on,
                "waiting_days": (today - search.started_on).days,
                "distance_km": round(float(distance), 1),
            }
        )
        if len(found) >= limit:
            break
    return found


def resolve_conflict(
    session: Session,
    *,
    item_id: int,
    action: str,
    actor: str,
    now: datetime,
    other_search_id: int | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> Inquiry | None:
    """Resolve a conflict: ``offer`` another waiting patient to the therapist, or ``close`` it.

    ``offer`` creates an approved inquiry to the same therapist with ``other_search_id``, overriding the
    practice's contact limits with the reason "conflict resolution" (audited), and returns it. ``close``
    records the late acceptance as declined_other (the place is not taken) and returns None. Either way the
    item stays marked ``is_conflict`` and gets ``conflict_resolved_at``.
    """
    settings = settings or get_settings()
    if action not in ACTIONS:
        raise ValidationError(
            Message("conflict.action_unknown", "Action '{action}' is unknown; use offer or close", action=action),
            field="action",
        )
    item = inquiries.get_item(session, item_id=item_id, for_update=True)
    label = inquiries.item_label(session, item)
    if not item.is_conflict or item.conflict_resolved_at is not None:
        if item.is_conflict:
            message = Message("conflict.already_resolved", "{item} is already resolved; nothing to resolve", item=label)
        else:
            message = Message("conflict.not_a_conflict", "{item} is not a conflict; nothing to resolve", item=label)
        raise ValidationError(message, field="item_id")
    source = item.inquiry
    created = None
    if action == "offer":
        created = _offer(session, source, other_search_id, actor=actor, actor_id=actor_id, now=now, settings=settings)
    else:
        item.outcome = ItemOutcome.DECLINED_OTHER
    item.conflict_resolved_at = now
    details = {"action": action, "inquiry_id": source.id}
    if created is not None:
        details.update(offered_search_id=other_search_id, new_inquiry_id=created.id)
    audit.record(session, actor=actor, actor_id=actor_id, action="conflict.resolved", entity_type="inquiry_item",
                 entity_id=item.id, details=details)  # fmt: skip
    events.emit(session, "conflict.resolved", aggregate_type="inquiry_item", aggregate_id=item.id, payload=details)
    return created


def _offer(session: Session, source: Inquiry, other_search_id: int | None, *, actor: str, actor_id: int | None,
           now: datetime, settings: Settings) -> Inquiry:  # fmt: skip
    if other_search_id is None:
        raise ValidationError(
            Message("conflict.choose_patient", "Choose the waiting patient to offer, e.g. other_search_id=42"),
            field="other_search_id",
        )
    search = session.get(Search, other_search_id)
    if search is None:
        raise NotFound(missing("search", other_search_id))
    patient = session.get(Patient, search.patient_id)
    therapist = session.get(Therapist, source.therapist_id)
    if search.status != SearchStatus.ACTIVE:
        raise ValidationError(
            Message(
                "conflict.search_not_active",
                "The search of patient {patient} is {status}; choose an active one",
                patient=patient.reference,
                status=status("search", search.status),
            ),
            field="other_search_id",
        )
    if therapist.id in (search.excluded_therapist_ids or []) + (patient.excluded_therapist_ids or []):
        raise ValidationError(
            Message("edit.patient_excludes", "Patient {patient} excludes this therapist", patient=patient.reference),
            field="other_search_id",
        )
    violations = limits.check(session, therapist_id=therapist.id, practice_id=source.practice_id, search_ids=[],
                              exclude_inquiry_id=None, today=limits.local_today(now, settings), now=now,
                              settings=settings)  # fmt: skip
    [reference] = references.allocate(session, count=1, year=limits.local_today(now, settings).year)
    inquiry = Inquiry(reference=reference, therapist_id=therapist.id, practice_id=source.practice_id,
                      status=InquiryStatus.APPROVED, approved_at=now, approved_by_id=actor_id,
                      override_reason=CONFLICT_OVERRIDE, created_at=now)  # fmt: skip
    session.add(inquiry)
    distance = None
    if None not in (patient.latitude, therapist.latitude):
        distance = round(float(haversine_km(patient.latitude, patient.longitude, therapist.latitude,
                                            therapist.longitude)), 2)  # fmt: skip
    inquiry.items.append(
        InquiryItem(search_id=search.id, outcome=ItemOutcome.PENDING, distance_km=distance, created_at=now,
                    factors=[{"code": "conflict_offer", "sentence": "offered after a conflict", "weight": 0.0}])
    )  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="inquiry.created", entity_type="inquiry",
                 entity_id=inquiry.id,
                 details={"status": "approved", "search_id": search.id, "from_conflict": True})  # fmt: skip
    audit.record(session, actor=actor, actor_id=actor_id, action="inquiry.contact_limit_override",
                 entity_type="inquiry", entity_id=inquiry.id, reason=CONFLICT_OVERRIDE,
                 details={"rules": [v.rule for v in violations], "step": "conflict"})  # fmt: skip
    events.emit(session, "inquiry.approved", aggregate_type="inquiry", aggregate_id=inquiry.id,
                payload={"reference": reference, "therapist_id": therapist.id, "from": "conflict"})  # fmt: skip
    return inquiry
