"""Mein Stand: a patient sees the state of their search and updates it through their signed link.

No login: the token names exactly one patient; the page shows that patient's own search (state, waiting
days, practices asked, answers awaited), contact details and weekly availability, and lets them change
those, pause the search until a date, resume it, or end it. Every change goes through the same core
functions staff use (core.patients.service), with the link as actor (``link:<patient reference>``), so it
is validated and audited alike; every view is audited as a read. A search that ended (placed, cancelled)
is shown, and the link changes nothing any more: a reused link after the end writes nothing, like an
answer link that was used. An erased patient's link shows nothing. Example:

    view = update_contact(session, token=token, now=now, changes={"phone": "030 1234567"})
    view = pause(session, token=token, until=date(2027, 1, 10), now=now)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.communication import links, outbox, selfservice_links
from core.config import Settings, get_settings
from core.errors import ValidationError
from core.messages import Message, field_name, term, words
from core.patients import service as patients
from core.patients.models import Patient, Search, SearchStatus

CHANGEABLE = ("email", "phone", "availability")  # what a patient may change themselves; the rest goes via staff
OPEN_SEARCH = (SearchStatus.ACTIVE, SearchStatus.PAUSED)
END_REASONS = {  # what the page offers; stored as the search's cancel reason (staff read it in German)
    "found_elsewhere": "Platz selbst gefunden (über Mein Stand)",
    "not_needed": "Keine Therapie mehr gewünscht (über Mein Stand)",
    "other": "Suche über Mein Stand beendet",
}


@dataclass(frozen=True)
class StatusView:
    patient_id: int
    reference: str
    first_name: str
    email: str | None
    phone: str | None
    contact_language: str
    availability: list[dict[str, Any]]
    weekly_hours: float | None
    search_status: SearchStatus | None
    started_on: date | None
    paused_until: date | None
    waiting_days: int
    practices_asked: int
    open_inquiries: int
    wants_status_updates: bool = True
    changed: bool = False  # True right after a change this call wrote

    @property
    def can_change(self) -> bool:
        return self.search_status in OPEN_SEARCH


def _actor(patient: Patient) -> str:
    return f"link:{patient.reference}"


def _patient(session: Session, token: str | None, now: datetime, settings: Settings) -> Patient:
    patient_id = selfservice_links.read_patient(token, now=now, settings=settings)
    patient = session.get(Patient, patient_id)
    if patient is None or patient.erased_at is not None:  # Art. 17: the link shows nothing any more
        raise links.LinkError(Message("link.invalid", "This link is no longer valid"), reason="invalid")
    return patient


def _latest_search(session: Session, patient: Patient) -> Search | None:
    return session.scalar(select(Search).where(Search.patient_id == patient.id)
                          .order_by(Search.started_on.desc(), Search.id.desc()).limit(1))  # fmt: skip


def _view(session: Session, patient: Patient, *, now: datetime, changed: bool = False) -> StatusView:
    search = _latest_search(session, patient)
    context = outbox.patient_context(session, patient_id=patient.id, now=now)
    return StatusView(
        patient_id=patient.id, reference=patient.reference, first_name=patient.first_name, email=patient.email,
        phone=patient.phone, contact_language=patient.contact_language, availability=list(patient.availability or []),
        weekly_hours=patient.weekly_hours, search_status=search.status if search else None,
        started_on=search.started_on if search else None, paused_until=search.paused_until if search else None,
        waiting_days=context["waiting_days"] if search else 0, practices_asked=context["practices_asked"],
        open_inquiries=context["open_inquiries"], wants_status_updates=patient.wants_status_updates, changed=changed,
    )  # fmt: skip


def load(session: Session, *, token: str | None, now: datetime, settings: Settings | None = None) -> StatusView:
    """Return what the page shows and audit the view; raise LinkError for a tampered or expired link."""
    settings = settings or get_settings()
    patient = _patient(session, token, now, settings)
    audit.record_read(session, actor=_actor(patient), what="patient.self_service", page="mein_stand",
                      references=[patient.reference], entity_type="patient", entity_id=patient.id)  # fmt: skip
    return _view(session, patient, now=now)


def update_contact(session: Session, *, token: str | None, now: datetime, changes: Mapping[str, Any],
                   settings: Settings | None = None) -> StatusView:  # fmt: skip
    """Change the patient's e-mail, phone or availability (validated like staff input); unchanged values are kept."""
    settings = settings or get_settings()
    patient = _patient(session, token, now, settings)
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ValidationError(
            Message(
                "selfservice.not_changeable",
                "{fields} cannot be changed here; please call us",
                fields=words([field_name(name) for name in unknown]),
            ),
            field=unknown[0],
        )
    view = _view(session, patient, now=now)
    if not view.can_change:  # the search ended: the link shows the end and changes nothing
        return view
    original = patients.form_values(patient)
    wanted = {key: value for key, value in changes.items() if value != original.get(key)}
    if not wanted:
        return view
    patients.update(session, patient_id=patient.id, version=patient.version, original=original, changes=wanted,
                    actor=_actor(patient), today=clock.local_date(now, settings))  # fmt: skip
    return _view(session, patient, now=now, changed=True)


def set_status_updates(session: Session, *, token: str | None, now: datetime, wanted: bool,
                       settings: Settings | None = None) -> StatusView:  # fmt: skip
    """Turn the weekly status mail on or off (core.communication.status_updates); audited."""
    settings = settings or get_settings()
    patient = _patient(session, token, now, settings)
    if not _view(session, patient, now=now).can_change or patient.wants_status_updates == bool(wanted):
        return _view(session, patient, now=now)
    patient.wants_status_updates = bool(wanted)
    session.flush()
    audit.record(session, actor=_actor(patient), action="patient.updated", entity_type="patient", entity_id=patient.id,
                 details={"fields": ["wants_status_updates"]})  # fmt: skip
    return _view(session, patient, now=now, changed=True)


def pause(session: Session, *, token: str | None, now: datetime, until: date,
          settings: Settings | None = None) -> StatusView:  # fmt: skip
    """Pause the active search until ``until`` (after today); it resumes by itself on that day."""
    settings = settings or get_settings()
    patient = _patient(session, token, now, settings)
    search = _latest_search(session, patient)
    if search is None or search.status != SearchStatus.ACTIVE:
        return _view(session, patient, now=now)
    patients.pause_search(session, search_id=search.id, until=until, reason="Mein Stand", actor=_actor(patient),
                          today=clock.local_date(now, settings))  # fmt: skip
    return _view(session, patient, now=now, changed=True)


def resume(session: Session, *, token: str | None, now: datetime, settings: Settings | None = None) -> StatusView:
    """Resume a paused search now."""
    settings = settings or get_settings()
    patient = _patient(session, token, now, settings)
    search = _latest_search(session, patient)
    if search is None or search.status != SearchStatus.PAUSED:
        return _view(session, patient, now=now)
    patients.resume_search(session, search_id=search.id, actor=_actor(patient))
    return _view(session, patient, now=now, changed=True)


def end_search(session: Session, *, token: str | None, now: datetime, reason: str,
               settings: Settings | None = None) -> StatusView:  # fmt: skip
    """End the search (reason: one of END_REASONS); an ended search stays ended, a second call writes nothing."""
    settings = settings or get_settings()
    if reason not in END_REASONS:
        raise ValidationError(
            Message(
                "selfservice.end_reason_unknown",
                "Reason '{reason}' is unknown; use one of {valid}",
                reason=reason,
                valid=words([term(f"selfservice.status.reason.{name}", name) for name in END_REASONS]),
            ),
            field="reason",
        )
    patient = _patient(session, token, now, settings)
    search = _latest_search(session, patient)
    if search is None or search.status not in OPEN_SEARCH:
        return _view(session, patient, now=now)
    patients.cancel_search(session, search_id=search.id, reason=END_REASONS[reason], actor=_actor(patient),
                           today=clock.local_date(now, settings))  # fmt: skip
    return _view(session, patient, now=now, changed=True)
