"""Patient use cases: create, update, get, list; consents; the search (Platzsuche) lifecycle.

Every function takes the session first and keyword-only arguments, writes an audit row (field names, never
health values) and a domain event in the caller's transaction, and does not commit. Example:

    with session_scope() as session:
        patient = create(session, data={...}, actor="anna@example.org", today=clock.today())
        record_consent(session, patient_id=patient.id, kind="health_data", text_version="2026-01", actor=..., now=...)
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.db.locking import ensure_unchanged
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.geo.models import Postcode
from core.messages import Message, missing
from core.patients import rules
from core.patients.models import (
    Consent,
    ConsentKind,
    LocationPrecision,
    Patient,
    PatientStatus,
    Search,
    SearchStatus,
    SettingWish,
)
from core.patients.validation import clean_patient

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: references are read out on the phone
# Fields whose values are health data: audit rows name them, never their values (GDPR Art. 9)
HEALTH_FIELDS = {"symptoms", "diagnoses", "previous_therapy_end", "two_year_exception", "notes"}


class PrequalificationFailed(ValidationError):
    """A search cannot start; ``requirements`` lists every unmet one at once."""

    def __init__(self, requirements: list[rules.Requirement]) -> None:
        super().__init__("Search cannot start: " + "; ".join(r.message for r in requirements), field="search")
        self.requirements = requirements


@dataclass(frozen=True)
class DuplicateCandidate:
    id: int
    reference: str
    name: str
    birth_date: date
    postcode: str
    reasons: tuple[str, ...]  # "name_birth_date", "name_postcode", "email", "phone"


class PossibleDuplicate(ValidationError):
    """The new patient looks like existing ones; save again with ``allow_duplicate=True`` to proceed."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        refs = ", ".join(c.reference for c in candidates)
        super().__init__(
            Message(
                "duplicate.patient",
                "This patient may already exist ({refs}); check before saving a second record",
                refs=refs,
            ),
            field="duplicate",
        )
        self.candidates = candidates


def new_reference(session: Session) -> str:
    """Return an unused pseudonymous reference such as 'P-7K3F9Q'."""
    while True:
        reference = "P-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.scalar(select(Patient.id).where(Patient.reference == reference)) is None:
            return reference


def get(session: Session, *, patient_id: int) -> Patient:
    """Return the patient or raise NotFound."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(missing("patient", patient_id))
    return patient


def open_record(session: Session, *, patient_id: int, actor: str, actor_id: int | None = None) -> Patient:
    """Return the patient for display and audit the read (every opening of a detail page is recorded)."""
    patient = get(session, patient_id=patient_id)
    audit.record(
        session, actor=actor, actor_id=actor_id, action="patient.viewed", entity_type="patient", entity_id=patient.id
    )
    return patient


def find_duplicates(
    session: Session, *, data: Mapping[str, Any], exclude_id: int | None = None
) -> list[DuplicateCandidate]:
    """Return existing patients with the same name and birth date or PLZ, the same e-mail, or the same phone.

    Names compare as the search finds them (search_fold: no case, accents or invisible characters), so
    "Zoe Cosic" meets "Zoë Ćosić".
    """
    first, last = data.get("first_name") or "", data.get("last_name") or ""
    same_name = and_(
        func.search_fold(Patient.first_name) == func.search_fold(first),
        func.search_fold(Patient.last_name) == func.search_fold(last),
    )
    conditions = []
    if first and last and data.get("birth_date"):
        conditions.append(and_(same_name, Patient.birth_date == data["birth_date"]))
    if first and last and data.get("postcode"):
        conditions.append(and_(same_name, Patient.postcode == data["postcode"]))
    if data.get("email"):
        conditions.append(func.lower(Patient.email) == data["email"].lower())
    if data.get("phone"):
        conditions.append(Patient.phone == data["phone"])
    if not conditions:
        return []
    name_matches = same_name if first and last else false()
    query = select(Patient, name_matches).where(or_(*conditions), Patient.erased_at.is_(None)).limit(10)
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    found = []
    for p, same in session.execute(query):
        reasons = []
        if same and p.birth_date == data.get("birth_date"):
            reasons.append("name_birth_date")
        if same and p.postcode == data.get("postcode"):
            reasons.append("name_postcode")
        if data.get("email") and (p.email or "").lower() == data["email"].lower():
            reasons.append("email")
        if data.get("phone") and p.phone == data["phone"]:
            reasons.append("phone")
        found.append(
            DuplicateCandidate(
                p.id, p.reference, f"{p.first_name} {p.last_name}", p.birth_date, p.postcode, tuple(reasons)
            )
        )
    return found


def _locate(session: Session, values: dict[str, Any]) -> None:
    """Place the patient at the PLZ centroid until the geocoder finds the exact address."""
    if "postcode" in values:
        postcode = session.get(Postcode, values["postcode"])
        values.update(
            latitude=postcode.latitude,
            longitude=postcode.longitude,
            location_precision=LocationPrecision.POSTCODE,
            location_source="postcode_centroid",
        )


def _audited_fields(fields: list[str]) -> list[str]:
    return sorted(fields)  # names only: values of health fields never reach the audit log


def create(
    session: Session,
    *,
    data: Mapping[str, Any],
    actor: str,
    today: date,
    allow_duplicate: bool = False,
    actor_id: int | None = None,
) -> Patient:
    """Validate and add a patient (status new). Raises ValidationError, or PossibleDuplicate unless allowed."""
    values = clean_patient(session, data, today=today)
    if not allow_duplicate:
        duplicates = find_duplicates(session, data=values)
        if duplicates:
            raise PossibleDuplicate(duplicates)
    _locate(session, values)
    patient = Patient(reference=new_reference(session), status=PatientStatus.NEW, **values)
    session.add(patient)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="patient.created",
        entity_type="patient",
        entity_id=patient.id,
        details={"fields": _audited_fields(list(values)), "duplicate_confirmed": allow_duplicate},
    )
    events.emit(
        session,
        "patient.created",
        aggregate_type="patient",
        aggregate_id=patient.id,
        payload={"reference": patient.reference},
    )
    return patient


def update(
    session: Session,
    *,
    patient_id: int,
    version: int,
    original: Mapping[str, Any],
    changes: Mapping[str, Any],
    actor: str,
    today: date,
    actor_id: int | None = None,
) -> Patient:
    """Apply ``changes`` if nobody saved the patient since ``version`` (else ConcurrentEdit naming the fields)."""
    patient = get(session, patient_id=patient_id)
    ensure_unchanged(patient, version=version, original=original)
    values = clean_patient(session, changes, today=today, partial=True)
    changed = {k: v for k, v in values.items() if getattr(patient, k) != v}
    if not changed:
        return patient
    _locate(session, changed)
    for field, value in changed.items():
        setattr(patient, field, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="patient.updated",
        entity_type="patient",
        entity_id=patient.id,
        details={"fields": _audited_fields(list(changed))},
    )
    events.emit(
        session,
        "patient.updated",
        aggregate_type="patient",
        aggregate_id=patient.id,
        payload={"fields": _audited_fields(list(changed))},
    )
    return patient


EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "insurance_type",
    "insurance_name",
    "symptoms",
    "diagnoses",
    "previous_therapy_end",
    "two_year_exception",
    "availability",
    "max_distance_km",
    "max_travel_minutes",
    "transport_mode",
    "therapist_gender_wish",
    "procedure_wishes",
    "setting_wish",
    "languages",
    "contact_language",
    "notes",
)


def form_values(patient: Patient) -> dict[str, Any]:
    """Return the editable values of a patient, as an edit form starts from (and optimistic locking compares)."""
    return {field: getattr(patient, field) for field in EDITABLE_FIELDS}


def set_status(
    session: Session,
    *,
    patient: Patient,
    target: PatientStatus,
    actor: str,
    reason: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Move a patient to ``target`` if DESIGN 3.1 allows it (else IllegalTransition listing the allowed ones)."""
    rules.check_transition("patient", patient.status, target)
    previous = patient.status
    patient.status = target
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="patient.status",
        entity_type="patient",
        entity_id=patient.id,
        details={"from": previous.value, "to": target.value},
        reason=reason,
    )
    events.emit(
        session,
        "patient.status_changed",
        aggregate_type="patient",
        aggregate_id=patient.id,
        payload={"from": previous.value, "to": target.value},
    )


# --- consent -------------------------------------------------------------------------------------------------


def record_consent(
    session: Session,
    *,
    patient_id: int,
    kind: str,
    text_version: str,
    actor: str,
    now: datetime,
    actor_id: int | None = None,
) -> Consent:
    """Record that the patient granted consent ``kind`` under the consent text ``text_version``."""
    patient = get(session, patient_id=patient_id)
    try:
        consent_kind = ConsentKind(kind)
    except ValueError:
        raise ValidationError(
            Message(
                "consent.kind_unknown", "Consent kind '{kind}' is unknown; use health_data or share_profile", kind=kind
            ),
            field="kind",
        ) from None
    version = (text_version or "").strip()
    if not version:
        raise ValidationError(
            Message("consent.version_required", "The consent text version is required, e.g. 2026-01"),
            field="text_version",
        )
    consent = Consent(
        patient_id=patient.id, kind=consent_kind, text_version=version, granted_at=now, recorded_by_id=actor_id
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="consent.granted",
        entity_type="patient",
        entity_id=patient.id,
        details={"kind": consent_kind.value, "text_version": version},
    )
    events.emit(
        session,
        "consent.granted",
        aggregate_type="patient",
        aggregate_id=patient.id,
        payload={"kind": consent_kind.value},
    )
    return consent


def withdraw_consent(
    session: Session, *, consent_id: int, actor: str, now: datetime, actor_id: int | None = None
) -> Consent:
    """Mark a consent withdrawn (the record stays: it proves what was allowed when)."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound(missing("consent", consent_id))
    if consent.withdrawn_at is not None:
        raise ValidationError(
            Message(
                "consent.already_withdrawn",
                "Consent {consent} was already withdrawn on {when:%d.%m.%Y}",
                consent=str(consent_id),
                when=consent.withdrawn_at,
            ),
            field="consent",
        )
    consent.withdrawn_at = now
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="consent.withdrawn",
        entity_type="patient",
        entity_id=consent.patient_id,
        details={"kind": consent.kind.value},
    )
    return consent


def active_consents(session: Session, *, patient_id: int) -> set[ConsentKind]:
    """Return the kinds of consent the patient currently grants."""
    rows = session.scalars(select(Consent.kind).where(Consent.patient_id == patient_id, Consent.withdrawn_at.is_(None)))
    return set(rows)


# --- search lifecycle ----------------------------------------------------------------------------------------


def current_search(session: Session, *, patient_id: int) -> Search | None:
    """Return the patient's active or paused search, if any."""
    return session.scalar(
        select(Search).where(
            Search.patient_id == patient_id, Search.status.in_([SearchStatus.ACTIVE, SearchStatus.PAUSED])
        )
    )


def unmet_requirements(session: Session, *, patient: Patient, today: date) -> list[rules.Requirement]:
    """Return every requirement the patient does not meet yet for starting a search."""
    consents = active_consents(session, patient_id=patient.id)
    return rules.prequalify(
        has_health_consent=ConsentKind.HEALTH_DATA in consents,
        has_share_consent=ConsentKind.SHARE_PROFILE in consents,
        insurance_type=patient.insurance_type,
        previous_therapy_end=patient.previous_therapy_end,
        two_year_exception=patient.two_year_exception,
        weekly_hours_available=patient.weekly_hours,
        setting_wish=SettingWish(patient.setting_wish),
        today=today,
    )


def start_search(session: Session, *, patient_id: int, actor: str, today: date, actor_id: int | None = None) -> Search:
    """Start a search after pre-qualification; PrequalificationFailed lists every unmet requirement at once."""
    patient = get(session, patient_id=patient_id)
    if current_search(session, patient_id=patient_id) is not None:
        raise ValidationError(
            Message("search.already_open", "Patient {patient} already has an open search", patient=patient.reference),
            field="search",
        )
    unmet = unmet_requirements(session, patient=patient, today=today)
    if unmet:
        raise PrequalificationFailed(unmet)
    set_status(session, patient=patient, target=PatientStatus.SEARCHING, actor=actor, actor_id=actor_id)
    search = Search(patient_id=patient.id, status=SearchStatus.ACTIVE, started_on=today)
    session.add(search)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="search.started",
        entity_type="search",
        entity_id=search.id,
        details={"patient_id": patient.id},
    )
    events.emit(
        session,
        "search.started",
        aggregate_type="search",
        aggregate_id=search.id,
        payload={"patient_id": patient.id, "started_on": today.isoformat()},
    )
    return search


def _search(session: Session, search_id: int) -> Search:
    search = session.get(Search, search_id)
    if search is None:
        raise NotFound(missing("search", search_id))
    return search


def move_search(
    session: Session,
    search: Search,
    target: SearchStatus,
    *,
    actor: str,
    actor_id: int | None,
    reason: str | None = None,
    details: dict | None = None,
) -> None:
    """Move a search to ``target`` if DESIGN 3.1 allows it; audit and emit the change (other domains use this too)."""
    rules.check_transition("search", search.status, target)
    previous = search.status
    search.status = target
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action=f"search.{target.value}",
        entity_type="search",
        entity_id=search.id,
        reason=reason,
        details={"from": previous.value, "to": target.value, **(details or {})},
    )
    events.emit(
        session,
        f"search.{target.value}",
        aggregate_type="search",
        aggregate_id=search.id,
        payload={"patient_id": search.patient_id, "from": previous.value},
    )


def reopen_after_no_show(session: Session, *, search: Search, actor: str, actor_id: int | None = None) -> None:
    """Undo a placement whose patient did not come: the search is active again and the patient searching.

    Not a step of the lifecycle tables (successful and in_therapy are final there), so it is its own,
    audited operation instead of a transition.
    """
    previous = search.status
    search.status, search.ended_on = SearchStatus.ACTIVE, None
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="search.reopened",
        entity_type="search",
        entity_id=search.id,
        reason="no_show",
        details={"from": previous.value, "to": "active"},
    )
    events.emit(
        session,
        "search.reopened",
        aggregate_type="search",
        aggregate_id=search.id,
        payload={"patient_id": search.patient_id, "from": previous.value},
    )
    patient = get(session, patient_id=search.patient_id)
    before = patient.status
    patient.status = PatientStatus.SEARCHING
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="patient.status",
        entity_type="patient",
        entity_id=patient.id,
        reason="no_show",
        details={"from": before.value, "to": "searching"},
    )
    events.emit(
        session,
        "patient.status_changed",
        aggregate_type="patient",
        aggregate_id=patient.id,
        payload={"from": before.value, "to": "searching"},
    )


def pause_search(
    session: Session,
    *,
    search_id: int,
    until: date,
    reason: str | None,
    actor: str,
    today: date,
    actor_id: int | None = None,
) -> Search:
    """Pause an active search until ``until`` (after today); it reactivates itself on that day."""
    search = _search(session, search_id)
    if until <= today:
        raise ValidationError(
            Message(
                "search.pause_past",
                "Pause until {until:%d.%m.%Y} must lie after today ({today:%d.%m.%Y})",
                until=until,
                today=today,
            ),
            field="paused_until",
        )
    move_search(
        session,
        search,
        SearchStatus.PAUSED,
        actor=actor,
        actor_id=actor_id,
        reason=reason,
        details={"until": until.isoformat()},
    )
    search.paused_until = until
    return search


def resume_search(session: Session, *, search_id: int, actor: str, actor_id: int | None = None) -> Search:
    """Reactivate a paused search now."""
    search = _search(session, search_id)
    move_search(session, search, SearchStatus.ACTIVE, actor=actor, actor_id=actor_id)
    search.paused_until = None
    return search


def cancel_search(
    session: Session, *, search_id: int, reason: str, actor: str, today: date, actor_id: int | None = None
) -> Search:
    """Cancel an active or paused search with a reason; the patient's search is then cancelled too."""
    if not (reason or "").strip():
        raise ValidationError(
            Message("search.cancel_reason", "A reason is required to cancel a search, e.g. 'found a place herself'"),
            field="cancel_reason",
        )
    search = _search(session, search_id)
    move_search(session, search, SearchStatus.CANCELLED, actor=actor, actor_id=actor_id, reason=reason)
    search.cancel_reason, search.ended_on, search.paused_until = reason.strip(), today, None
    patient = get(session, patient_id=search.patient_id)
    set_status(
        session, patient=patient, target=PatientStatus.SEARCH_CANCELLED, actor=actor, actor_id=actor_id, reason=reason
    )
    return search


def reactivate_due_searches(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Job: reactivate every paused search whose until-date has come (DESIGN 3.1)."""
    today = clock.local_date(now)
    due = session.scalars(
        select(Search)
        .where(Search.status == SearchStatus.PAUSED, Search.paused_until <= today)
        .with_for_update(skip_locked=True)
    ).all()
    for search in due:
        move_search(
            session,
            search,
            SearchStatus.ACTIVE,
            actor="job:reactivate_searches",
            actor_id=None,
            reason=f"paused until {search.paused_until:%d.%m.%Y}",
        )
        search.paused_until = None
    return {"reactivated": len(due)}
