"""Everything the therapist and practice pages show, read in one call as plain values (no ORM objects leak out).

Example: ``overview(session, therapist_id=12).practice.name`` -> "Praxis Dr. Mara Beispiel"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.audit import service as audit
from core.geo.models import Postcode
from core.therapists import practices
from core.therapists import service as therapists
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist
from core.therapists.status import allowed_actions

AUDIT_ROWS = 50  # the page shows the recent history; the full trail stays in audit_event


@dataclass(frozen=True)
class TherapistOverview:
    therapist: dict[str, Any]  # every column, enums as their values
    name: str
    place: str  # "10115 Berlin": the city as entered, else the PLZ's place name
    version: int
    editable: dict[str, Any]  # what the edit form starts from and sends back as ``original``
    actions: list[str]  # the status changes allowed now
    practice: practices.PracticeSummary | None
    colleagues: list[dict[str, Any]]  # the practice's other therapists
    audit: list[dict[str, Any]]


@dataclass(frozen=True)
class PracticeOverview:
    practice: dict[str, Any]
    members: list[dict[str, Any]]
    candidates: list[practices.PracticeSummary]  # practices it might be merged with
    audit: list[dict[str, Any]]


def _columns(record: Therapist | Practice) -> dict[str, Any]:
    values = {column.key: getattr(record, column.key) for column in record.__table__.columns}
    return {key: getattr(value, "value", value) for key, value in values.items()}


def _member(t: Therapist) -> dict[str, Any]:
    return {"id": t.id, "name": display_name(t.title, t.first_name, t.last_name), "status": t.status.value,
            "email": t.email, "phone": t.phone, "accepting_patients": t.accepting_patients}  # fmt: skip


def _audit(session: Session, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    events = audit.get_all(session, entity_type=entity_type, entity_id=entity_id, limit=AUDIT_ROWS)
    return [{"occurred_at": e.occurred_at, "actor": e.actor, "action": e.action,
             "fields": (e.details or {}).get("fields", []), "reason": e.reason} for e in events]  # fmt: skip


def overview(session: Session, *, therapist_id: int) -> TherapistOverview:
    """Return the therapist with practice, colleagues, allowed status actions and recent audit rows."""
    t = therapists.get(session, therapist_id)
    centroid = session.get(Postcode, t.postcode) if t.postcode else None
    city = t.city or (centroid.place if centroid else None)
    summary = practices.summary(session, t.practice_id) if t.practice_id else None
    colleagues = [_member(m) for m in practices.members(session, t.practice_id) if m.id != t.id] if summary else []
    return TherapistOverview(
        therapist=_columns(t),
        name=display_name(t.title, t.first_name, t.last_name),
        place=" ".join(filter(None, [t.postcode, city])),
        version=t.version,
        editable=therapists.editable_values(t),
        actions=[a.value for a in allowed_actions(t.status)],
        practice=summary,
        colleagues=colleagues,
        audit=_audit(session, "therapist", therapist_id),
    )


def practice_overview(session: Session, *, practice_id: int) -> PracticeOverview:
    """Return the practice with its members, merge candidates at the same PLZ and recent audit rows."""
    practice = practices.get(session, practice_id)
    return PracticeOverview(
        practice=_columns(practice),
        members=[_member(m) for m in practices.members(session, practice_id)],
        candidates=practices.merge_candidates(session, practice_id=practice_id),
        audit=_audit(session, "practice", practice_id),
    )


ACCEPTING_ANSWER_FRESH_DAYS = 180  # practices' capacity changes about twice a year; older answers need a call


def is_stale(confirmed_on: date | None, *, today: date, days: int = ACCEPTING_ANSWER_FRESH_DAYS) -> bool:
    """Return whether an accepting answer is older than ``days`` (staff should ask again)."""
    return confirmed_on is None or (today - confirmed_on).days > days
