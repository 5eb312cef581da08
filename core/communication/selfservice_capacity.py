"""Kapazität melden: a therapist says through their signed link whether they take new patients, and on what terms.

No login: the token names exactly one therapist. A report is stored (CapacityReport, a dated history) and
updates the therapist: ``accepting_patients``, ``accepting_confirmed_on`` and ``last_verified_on`` (today,
local) and, when given, the patient preferences (age range, gender). The same link may be used again later
(capacity changes); the same report sent twice on one day (a double click, a reloaded form) is stored once.
Every report is audited with the link as actor. Example:

    report(session, token=token, now=now, accepting=True, available_from=date(2027, 1, 4), hours_per_week=3)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.communication import links, selfservice_links
from core.communication.selfservice_models import CapacityReport
from core.config import Settings, get_settings
from core.errors import ValidationError
from core.events import service as events
from core.matching.queries import therapist_name
from core.messages import Message
from core.patients.models import GenderWish
from core.therapists.models import Therapist, TherapistStatus

MAX_HOURS_PER_WEEK = 60  # more free therapy hours than a full-time practice has is a typing error
REPORT_FIELDS = ("accepting", "available_from", "hours_per_week", "pref_age_min", "pref_age_max",
                 "pref_patient_gender", "note")  # fmt: skip


@dataclass(frozen=True)
class CapacityView:
    therapist_id: int
    therapist_name: str
    accepting: bool | None
    confirmed_on: date | None
    pref_age_min: int | None
    pref_age_max: int | None
    pref_patient_gender: str
    last_report: dict[str, Any] | None  # the latest report's values and when it came
    just_recorded: bool = False


def _therapist(session: Session, token: str | None, now: datetime, settings: Settings, *, lock: bool = False):
    therapist_id = selfservice_links.read_therapist(token, now=now, settings=settings)
    therapist = session.get(Therapist, therapist_id, with_for_update=lock)
    if therapist is None or therapist.status == TherapistStatus.INACTIVE:
        raise links.LinkError(Message("link.invalid", "This link is no longer valid"), reason="invalid")
    return therapist


def _values(row: CapacityReport) -> dict[str, Any]:
    return {f: getattr(row, f) for f in REPORT_FIELDS} | {"reported_at": row.reported_at}


def _view(session: Session, therapist: Therapist, *, just_recorded: bool = False) -> CapacityView:
    last = session.scalar(select(CapacityReport).where(CapacityReport.therapist_id == therapist.id)
                          .order_by(CapacityReport.id.desc()).limit(1))  # fmt: skip
    return CapacityView(
        therapist_id=therapist.id, therapist_name=therapist_name(therapist), accepting=therapist.accepting_patients,
        confirmed_on=therapist.accepting_confirmed_on, pref_age_min=therapist.pref_age_min,
        pref_age_max=therapist.pref_age_max, pref_patient_gender=str(therapist.pref_patient_gender or "any"),
        last_report=_values(last) if last else None,
        just_recorded=just_recorded,
    )  # fmt: skip


def load(session: Session, *, token: str | None, now: datetime, settings: Settings | None = None) -> CapacityView:
    """Return what the page shows; raise LinkError for a tampered or expired link. Reads only."""
    settings = settings or get_settings()
    return _view(session, _therapist(session, token, now, settings))


def _clean(*, accepting: object, available_from: date | None, hours_per_week: int | None, pref_age_min: int | None,
           pref_age_max: int | None, pref_patient_gender: str | None, note: str | None,
           today: date) -> dict[str, Any]:  # fmt: skip
    if not isinstance(accepting, bool):
        raise ValidationError(
            Message("capacity.accepting_yes_no", "Say yes or no to new patients (got '{value}')", value=str(accepting)),
            field="accepting",
        )
    if available_from is not None and available_from < today:
        raise ValidationError(
            Message(
                "capacity.date_past",
                "The date {day:%d.%m.%Y} lies in the past; pick today or later",
                day=available_from,
            ),
            field="available_from",
        )
    if hours_per_week is not None and not 0 <= hours_per_week <= MAX_HOURS_PER_WEEK:
        raise ValidationError(
            Message(
                "capacity.hours_range",
                "Hours per week {hours} must be between 0 and {maximum}",
                hours=hours_per_week,
                maximum=MAX_HOURS_PER_WEEK,
            ),
            field="hours_per_week",
        )
    for name, age in (("pref_age_min", pref_age_min), ("pref_age_max", pref_age_max)):
        if age is not None and not 0 <= age <= 120:
            raise ValidationError(
                Message("capacity.age_range", "Age {age} must be between 0 and 120", age=age), field=name
            )
    if pref_age_min is not None and pref_age_max is not None and pref_age_min > pref_age_max:
        raise ValidationError(
            Message(
                "capacity.ages_reversed",
                "The youngest age {youngest} is above the oldest {oldest}; swap them",
                youngest=pref_age_min,
                oldest=pref_age_max,
            ),
            field="pref_age_min",
        )
    if pref_patient_gender is not None and pref_patient_gender not in {g.value for g in GenderWish}:
        raise ValidationError(
            Message(
                "capacity.gender_unknown",
                "Patient gender '{value}' is unknown; use female, male or any",
                value=pref_patient_gender,
            ),
            field="pref_patient_gender",
        )
    return {"accepting": accepting, "available_from": available_from, "hours_per_week": hours_per_week,
            "pref_age_min": pref_age_min, "pref_age_max": pref_age_max, "pref_patient_gender": pref_patient_gender,
            "note": (note or "").strip()[:2000] or None}  # fmt: skip


def report(session: Session, *, token: str | None, now: datetime, accepting: bool, available_from: date | None = None,
           hours_per_week: int | None = None, pref_age_min: int | None = None, pref_age_max: int | None = None,
           pref_patient_gender: str | None = None, note: str | None = None,
           settings: Settings | None = None) -> CapacityView:  # fmt: skip
    """Record a capacity report and refresh the therapist's dates (see the module docstring)."""
    settings = settings or get_settings()
    today = clock.local_date(now, settings)
    therapist = _therapist(session, token, now, settings, lock=True)
    values = _clean(accepting=accepting, available_from=available_from, hours_per_week=hours_per_week,
                    pref_age_min=pref_age_min, pref_age_max=pref_age_max, pref_patient_gender=pref_patient_gender,
                    note=note, today=today)  # fmt: skip
    last = _view(session, therapist).last_report
    if (
        last
        and clock.local_date(last["reported_at"], settings) == today
        and all(last[f] == values[f] for f in REPORT_FIELDS)
    ):  # the same report again today: stored once
        return _view(session, therapist)
    row = CapacityReport(therapist_id=therapist.id, reported_at=now, **values)
    session.add(row)
    therapist.accepting_patients = accepting
    therapist.accepting_confirmed_on = today
    therapist.last_verified_on = today
    changed = ["accepting_patients", "accepting_confirmed_on", "last_verified_on"]
    for field in ("pref_age_min", "pref_age_max", "pref_patient_gender"):
        if values[field] is not None:
            setattr(therapist, field, values[field])
            changed.append(field)
    session.flush()
    actor = f"link:capacity:{therapist.id}"
    audit.record(session, actor=actor, action="therapist.capacity_reported", entity_type="therapist",
                 entity_id=therapist.id,
                 details={"fields": changed, "report_id": row.id, "accepting": accepting})  # fmt: skip
    events.emit(session, "therapist.capacity_reported", aggregate_type="therapist", aggregate_id=therapist.id,
                payload={"accepting": accepting, "report_id": row.id})  # fmt: skip
    return _view(session, therapist, just_recorded=True)
