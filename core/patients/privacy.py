"""Data-subject rights (GDPR Art. 15, 17, 20): export everything about a patient, erase a patient.

Erasure anonymises rather than deletes, so statistics survive: names, contact data and free text are
removed, the birth date is reduced to the year (1 July, the year's midpoint), the location to the PLZ
centroid. Searches, inquiry items and placements stay as statistical rows. Example:

    erase(session, patient_id=7, actor="admin@example.org", reason="Art. 17 request of 2026-11-20", now=now)
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.audit.models import AuditEvent
from core.communication.models import Email, PhoneCall
from core.errors import ValidationError
from core.events import service as events
from core.geo.models import GeocacheEntry, Postcode
from core.matching.models import Inquiry, InquiryItem, Placement
from core.patients.models import Consent, LocationPrecision, Patient, Search
from core.patients.service import get
from core.therapists.duplicates import display_name
from core.therapists.models import Therapist

ERASED_NAME = "Gelöscht"


def _row(record: Any) -> dict[str, Any]:
    return {column.key: getattr(record, column.key) for column in inspect(record).mapper.column_attrs}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def export(session: Session, *, patient_id: int, actor: str, actor_id: int | None = None) -> dict[str, Any]:
    """Return everything stored about the patient as JSON-ready data, and audit the export."""
    patient = get(session, patient_id=patient_id)
    searches = session.scalars(select(Search).where(Search.patient_id == patient.id)).all()
    search_ids = [s.id for s in searches]
    items = (
        session.scalars(select(InquiryItem).where(InquiryItem.search_id.in_(search_ids))).all() if search_ids else []
    )
    inquiries = {
        i.id: i for i in session.scalars(select(Inquiry).where(Inquiry.id.in_([it.inquiry_id for it in items])))
    }
    therapists = {
        t.id: t
        for t in session.scalars(
            select(Therapist).where(Therapist.id.in_([i.therapist_id for i in inquiries.values()]))
        )
    }
    data = {
        "exported_at": datetime.now().astimezone().isoformat(),
        "patient": _row(patient),
        "consents": [_row(c) for c in session.scalars(select(Consent).where(Consent.patient_id == patient.id))],
        "searches": [_row(s) for s in searches],
        "inquiries": [
            {
                **_row(item),
                "inquiry_reference": inquiries[item.inquiry_id].reference,
                "therapist": _therapist_name(therapists.get(inquiries[item.inquiry_id].therapist_id)),
            }
            for item in items
        ],
        "placements": [_row(p) for p in session.scalars(select(Placement).where(Placement.search_id.in_(search_ids)))],
        "emails": [_row(e) for e in session.scalars(select(Email).where(Email.patient_id == patient.id))],
        "phone_calls": [_row(c) for c in session.scalars(select(PhoneCall).where(PhoneCall.patient_id == patient.id))],
        "audit": [
            _row(a)
            for a in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == str(patient.id))
                .order_by(AuditEvent.id)
            )
        ],
    }
    audit.record(
        session, actor=actor, actor_id=actor_id, action="patient.exported", entity_type="patient", entity_id=patient.id
    )
    return _jsonable(data)


def export_json(session: Session, *, patient_id: int, actor: str, actor_id: int | None = None) -> str:
    """Return the export as pretty-printed UTF-8 JSON text."""
    return json.dumps(
        export(session, patient_id=patient_id, actor=actor, actor_id=actor_id), ensure_ascii=False, indent=2
    )


def _therapist_name(therapist: Therapist | None) -> str | None:
    if therapist is None:
        return None
    return display_name(therapist.title, therapist.first_name, therapist.last_name)


def erase(
    session: Session, *, patient_id: int, actor: str, reason: str, now: datetime, actor_id: int | None = None
) -> Patient:
    """Anonymise the patient everywhere in the database; statistical rows stay. Needs a reason."""
    if not (reason or "").strip():
        raise ValidationError(
            "A reason is required for an erasure, e.g. 'Art. 17 request of 20.11.2026'", field="reason"
        )
    patient = get(session, patient_id=patient_id)
    if patient.erased_at is not None:
        raise ValidationError(
            f"Patient {patient.reference} was already erased on {patient.erased_at:%d.%m.%Y}", field="patient"
        )
    centroid = session.get(Postcode, patient.postcode)
    if patient.street:
        # the geocoding cache keeps looked-up addresses; the patient's must go (re-geocoding costs one request)
        session.execute(
            delete(GeocacheEntry).where(
                GeocacheEntry.query.ilike(f"%{patient.street.strip()}%"), GeocacheEntry.query.contains(patient.postcode)
            )
        )
    patient.first_name = ERASED_NAME
    patient.last_name = patient.reference
    patient.email = patient.phone = patient.street = patient.city = None
    patient.insurance_name = patient.notes = patient.two_year_exception = None
    patient.birth_date = date(patient.birth_date.year, 7, 1)
    patient.latitude = centroid.latitude if centroid else None
    patient.longitude = centroid.longitude if centroid else None
    patient.location_precision = LocationPrecision.POSTCODE if centroid else LocationPrecision.NONE
    patient.location_source = "erased"
    patient.erased_at = now
    session.execute(
        update(Email)
        .where(Email.patient_id == patient.id)
        .values(to_address="geloescht@invalid.example", subject="(gelöscht)", body_text="(gelöscht)", body_html=None)
    )
    session.execute(update(PhoneCall).where(PhoneCall.patient_id == patient.id).values(notes=None))
    search_ids = select(Search.id).where(Search.patient_id == patient.id)
    session.execute(update(Search).where(Search.patient_id == patient.id).values(cancel_reason=None))
    session.execute(update(InquiryItem).where(InquiryItem.search_id.in_(search_ids)).values(answer_message=None))
    # mails and calls about the patient's inquiries may quote the patient: drop their free text as well
    inquiry_ids = select(InquiryItem.inquiry_id).where(InquiryItem.search_id.in_(search_ids))
    session.execute(update(PhoneCall).where(or_(PhoneCall.inquiry_id.in_(inquiry_ids))).values(notes=None))
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="patient.erased",
        entity_type="patient",
        entity_id=patient.id,
        reason=reason.strip(),
    )
    events.emit(session, "patient.erased", aggregate_type="patient", aggregate_id=patient.id, payload={})
    return patient
