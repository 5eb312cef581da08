"""Everything the patient detail page shows, read in one call (rows, not domain objects).

Example: ``view = overview(session, patient_id=7, today=clock.today())``; ``view.timeline[0]["what"]``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import clock
from core.audit.models import AuditEvent
from core.matching.models import Inquiry, InquiryItem, Placement
from core.patients import rules
from core.patients.models import Consent, ConsentKind, Search
from core.patients.service import current_search, form_values, get, unmet_requirements
from core.therapists.duplicates import display_name
from core.therapists.models import Therapist


@dataclass(frozen=True)
class PatientOverview:
    patient: dict[str, Any]
    version: int
    age: int
    consents: dict[str, dict[str, Any] | None]  # kind -> latest active consent or None
    search: dict[str, Any] | None  # the open (active/paused) search
    waiting_days: int | None
    unmet: list[rules.Requirement]
    timeline: list[dict[str, Any]]  # when, kind, what (codes for translation), reference; [] without history
    audit: list[dict[str, Any]]  # [] without history


def overview(session: Session, *, patient_id: int, today: date, history: bool = True) -> PatientOverview:
    """Return the detail view of one patient; NotFound if the id is unknown.

    ``history=False`` leaves out the timeline and the audit trail (a page that shows them only in a tab reads
    them with ``timeline`` and ``audit_trail`` when the tab is open).
    """
    patient = get(session, patient_id=patient_id)
    values = {
        **form_values(patient),
        "id": patient.id,
        "reference": patient.reference,
        "status": patient.status,
        "weekly_hours": patient.weekly_hours,
        "erased_at": patient.erased_at,
        "location_precision": patient.location_precision,
        "latitude": patient.latitude,
        "longitude": patient.longitude,
    }
    consents: dict[str, dict[str, Any] | None] = {kind.value: None for kind in ConsentKind}
    for consent in session.scalars(
        select(Consent)
        .where(Consent.patient_id == patient.id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at)
    ):
        consents[consent.kind.value] = {
            "id": consent.id,
            "granted_at": consent.granted_at,
            "text_version": consent.text_version,
        }
    search = current_search(session, patient_id=patient.id)
    return PatientOverview(
        patient=values,
        version=patient.version,
        age=rules.age_on(patient.birth_date, today),
        consents=consents,
        search=None
        if search is None
        else {
            "id": search.id,
            "status": search.status,
            "started_on": search.started_on,
            "paused_until": search.paused_until,
            "relaxations": search.relaxations,
        },
        waiting_days=(today - search.started_on).days if search else None,
        unmet=unmet_requirements(session, patient=patient, today=today) if search is None else [],
        timeline=_timeline(session, patient.id) if history else [],
        audit=_audit(session, patient.id) if history else [],
    )


def timeline(session: Session, *, patient_id: int) -> list[dict[str, Any]]:
    """The patient's searches, sent inquiries and placements, newest first (``PatientOverview.timeline``)."""
    return _timeline(session, patient_id)


def audit_trail(session: Session, *, patient_id: int) -> list[dict[str, Any]]:
    """The last 200 audit events of the patient and their searches (``PatientOverview.audit``)."""
    return _audit(session, patient_id)


def _timeline(session: Session, patient_id: int) -> list[dict[str, Any]]:
    searches = session.scalars(select(Search).where(Search.patient_id == patient_id)).all()
    events: list[dict[str, Any]] = []
    for search in searches:
        events.append({"when": search.started_on, "kind": "search", "status": search.status.value, "reference": ""})
    rows = session.execute(
        select(InquiryItem, Inquiry, Therapist)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .join(Therapist, Therapist.id == Inquiry.therapist_id)
        # only inquiries that went out: a proposal never sent asked nobody, so it is no withdrawn inquiry
        .where(InquiryItem.search_id.in_([s.id for s in searches]), Inquiry.sent_at.is_not(None))
    ).all()
    for item, inquiry, therapist in rows:
        when = inquiry.sent_at
        events.append(
            {
                "when": clock.local_date(when) if isinstance(when, datetime) else when,
                "kind": "inquiry",
                "reference": inquiry.reference,
                "inquiry_status": inquiry.status.value,
                "outcome": item.outcome.value,
                "therapist": display_name(therapist.title, therapist.first_name, therapist.last_name),
                "therapist_id": therapist.id,
            }
        )
    for placement in session.scalars(select(Placement).where(Placement.search_id.in_([s.id for s in searches]))):
        events.append(
            {"when": placement.placed_on, "kind": "placement", "reference": "", "therapist_id": placement.therapist_id}
        )
    return sorted(events, key=lambda e: (e["when"], e["kind"]), reverse=True)


def _audit(session: Session, patient_id: int) -> list[dict[str, Any]]:
    search_ids = [str(i) for i in session.scalars(select(Search.id).where(Search.patient_id == patient_id))]
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                (AuditEvent.entity_type == "patient") & (AuditEvent.entity_id == str(patient_id)),
                (AuditEvent.entity_type == "search") & (AuditEvent.entity_id.in_(search_ids)),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(200)
    )
    return [
        {
            "when": e.occurred_at,
            "actor": e.actor,
            "action": e.action,
            "fields": ", ".join(e.details.get("fields", [])),
            "reason": e.reason or "",
        }
        for e in events
    ]
