"""Data-subject rights (GDPR Art. 15, 17, 20): export everything about a patient, erase a patient.

Erasure anonymises rather than deletes, so statistics survive: names, contact data and free text are
removed, the birth date is reduced to the year (1 July, the year's midpoint), the location to the PLZ
centroid. Searches, inquiry items and placements stay as statistical rows. Erasure also stops all
processing: the search ends, open items are withdrawn, queued mail is stopped or rewritten, and the record
gets a new reference (the old one, which practices hold, leads nowhere). ``erase`` is the transactional part;
``erase_everywhere`` commits it, then purges local mail copies and log lines and compacts the database
(``core.patients.residue``), and stores the report. Example:

    report = erase_everywhere(engine, patient_id=7, actor="admin@example.org", reason="Art. 17, 20.11.", now=now)
    report.delivered  # mail already at practices: what could not be erased, with dates and practices
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Engine, delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.audit.models import AuditEvent
from core.communication import inbound_store, outbox, templates
from core.communication.inbound_models import InboundMail
from core.communication.models import CallStatus, Email, EmailStatus, PhoneCall
from core.config import Settings, get_settings
from core.db import session_scope
from core.errors import ValidationError
from core.events import service as events
from core.geo.geocoding import normalise_query
from core.geo.models import GeocacheEntry, Postcode
from core.matching import inquiries
from core.matching.models import Inquiry, InquiryItem, ItemOutcome, Placement
from core.messages import Message
from core.patients import residue
from core.patients.call_models import FollowUpTask, PatientCall
from core.patients.models import Consent, LocationPrecision, Patient, PatientStatus, Search, SearchStatus
from core.patients.service import get, move_search, new_reference, set_status
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist

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
    own_replies = InboundMail.email_id.in_(select(Email.id).where(Email.patient_id == patient.id))  # fetch_mail
    data = {
        "exported_at": clock.local(clock.now()).isoformat(),
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
        "received_emails": [_row(m) for m in session.scalars(select(InboundMail).where(own_replies))],
        "phone_calls": [_row(c) for c in session.scalars(select(PhoneCall).where(PhoneCall.patient_id == patient.id))],
        "patient_calls": [
            _row(c) for c in session.scalars(select(PatientCall).where(PatientCall.patient_id == patient.id))
        ],
        "followup_tasks": [
            _row(t) for t in session.scalars(select(FollowUpTask).where(FollowUpTask.patient_id == patient.id))
        ],
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


UNSENT = (EmailStatus.DRAFT, EmailStatus.QUEUED, EmailStatus.FAILED)
ASKING_TEMPLATES = ("inquiry", "reminder")  # mails that ask a practice about the pending patients
SCRUBBED = "(gelöscht)"


@dataclass(frozen=True)
class DeliveredMail:
    """A mail about the patient that already left us: its copy at the practice cannot be erased by us."""

    sent_on: date
    recipient: str  # practice (or therapist) name, never the patient
    template: str
    inquiry_reference: str | None


@dataclass
class ErasureReport:
    """What an erasure did and what it could not do; ``as_dict`` holds no identifier of the patient."""

    patient_id: int
    reference: str  # the new, unlinked reference of the anonymous record
    erased_at: datetime
    searches_ended: int = 0
    items_withdrawn: int = 0
    inquiries_closed: int = 0
    calls_cancelled: int = 0
    mails_stopped: int = 0  # queued mail that will never go out
    mails_rewritten: int = 0  # queued inquiry mails re-rendered without the patient
    delivered: list[DeliveredMail] = field(default_factory=list)
    local_mails_deleted: int = 0
    log_lines_redacted: int = 0
    storage: list[str] = field(default_factory=list)  # what happened to dead rows and WAL, or what to do
    identifiers: tuple[str, ...] = field(default=(), repr=False)  # only in memory, for the file purge

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("identifiers")
        return _jsonable(data)


def identifiers_of(patient: Patient) -> tuple[str, ...]:
    """The values that name the patient, as they may appear in mail and logs (never stored anywhere)."""
    values = [patient.email, patient.phone, patient.street, patient.reference,
              f"{patient.first_name} {patient.last_name}", f"{patient.last_name}, {patient.first_name}",
              patient.birth_date.isoformat(), f"{patient.birth_date:%d.%m.%Y}"]  # fmt: skip
    return tuple(v.strip() for v in values if v and v.strip())


def erase(
    session: Session,
    *,
    patient_id: int,
    actor: str,
    reason: str,
    now: datetime,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> ErasureReport:
    """Anonymise the patient and stop all processing about them; statistical rows stay. Needs a reason.

    Ends the search, withdraws open inquiry items (closing inquiries left without a patient and their
    calls), stops or rewrites queued mail, gives the record a new reference so that what practices already
    hold no longer points to it, and reports the mail that was already delivered. Files and dead row
    versions are handled after the commit by ``erase_everywhere``.
    """
    if not (reason or "").strip():
        raise ValidationError(
            Message(
                "erasure.reason_required", "A reason is required for an erasure, e.g. 'Art. 17 request of 20.11.2026'"
            ),
            field="reason",
        )
    settings = settings or get_settings()
    patient = get(session, patient_id=patient_id)
    if patient.erased_at is not None:
        raise ValidationError(
            Message(
                "erasure.already_erased",
                "Patient {patient} was already erased on {when:%d.%m.%Y}",
                patient=patient.reference,
                when=patient.erased_at,
            ),
            field="patient",
        )
    identifiers = identifiers_of(patient)  # includes the old reference that practices know
    report = ErasureReport(patient_id=patient.id, reference="", erased_at=now, identifiers=identifiers)
    _end_searches(session, patient, report, actor=actor, actor_id=actor_id, now=now)
    _drop_geocache(session, patient)
    _anonymise(session, patient, now=now)
    session.flush()
    _handle_mail(session, patient, identifiers, report, now=now, settings=settings)
    report.reference = patient.reference
    audit.record(session, actor=actor, actor_id=actor_id, action="patient.erased", entity_type="patient",
                 entity_id=patient.id, reason=reason.strip(), details=report.as_dict())  # fmt: skip
    events.emit(session, "patient.erased", aggregate_type="patient", aggregate_id=patient.id, payload={})
    return report


def _end_searches(session: Session, patient: Patient, report: ErasureReport, *, actor: str, actor_id: int | None,
                  now: datetime) -> None:  # fmt: skip
    """End the open search and withdraw every pending inquiry item; close inquiries left without a patient."""
    why = "Art. 17 erasure"
    for search in session.scalars(select(Search).where(Search.patient_id == patient.id)):
        if search.status in (SearchStatus.ACTIVE, SearchStatus.PAUSED):
            move_search(session, search, SearchStatus.CANCELLED, actor=actor, actor_id=actor_id, reason=why)
            search.ended_on, search.paused_until = clock.local_date(now), None
            report.searches_ended += 1
        search.cancel_reason = None
    if patient.status in (PatientStatus.NEW, PatientStatus.SEARCHING):
        set_status(session, patient=patient, target=PatientStatus.SEARCH_CANCELLED, actor=actor, reason=why,
                   actor_id=actor_id)  # fmt: skip
    search_ids = select(Search.id).where(Search.patient_id == patient.id)
    pending = session.scalars(
        select(InquiryItem).where(InquiryItem.search_id.in_(search_ids), InquiryItem.outcome == ItemOutcome.PENDING)
    ).all()
    for item in pending:
        item.outcome = ItemOutcome.WITHDRAWN
        audit.record(session, actor=actor, actor_id=actor_id, action="inquiry_item.withdrawn",
                     entity_type="inquiry_item", entity_id=item.id, reason=why)  # fmt: skip
    report.items_withdrawn = len(pending)
    session.flush()
    for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_({i.inquiry_id for i in pending}))):
        before = inquiry.status
        inquiries.settle(session, inquiry, actor=actor, actor_id=actor_id, now=now)
        if inquiry.status != before:
            report.inquiries_closed += 1
            calls = session.scalars(
                select(PhoneCall).where(PhoneCall.inquiry_id == inquiry.id, PhoneCall.status == CallStatus.SCHEDULED)
            ).all()
            for call in calls:
                call.status = CallStatus.CANCELLED
            report.calls_cancelled += len(calls)
    session.execute(update(InquiryItem).where(InquiryItem.search_id.in_(search_ids)).values(answer_message=None))
    # calls about the patient's inquiries may have notes quoting the patient: drop their free text as well
    inquiry_ids = select(InquiryItem.inquiry_id).where(InquiryItem.search_id.in_(search_ids))
    session.execute(update(PhoneCall).where(PhoneCall.inquiry_id.in_(inquiry_ids)).values(notes=None))


def _drop_geocache(session: Session, patient: Patient) -> None:
    """Delete the cached geocoding of exactly the patient's address (re-geocoding costs one request)."""
    if not (patient.street or "").strip():
        return
    key = normalise_query(patient.street, patient.postcode, None)  # "street, plz", the city follows it
    session.execute(
        delete(GeocacheEntry).where(
            or_(GeocacheEntry.query == key, GeocacheEntry.query.startswith(f"{key} ", autoescape=True))
        )
    )


def _anonymise(session: Session, patient: Patient, *, now: datetime) -> None:
    centroid = session.get(Postcode, patient.postcode)
    patient.reference = new_reference(session)  # practices know the old one: it must lead nowhere now
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
    session.execute(update(PhoneCall).where(PhoneCall.patient_id == patient.id).values(notes=None))
    patient.wrong_phone = None
    session.execute(update(PatientCall).where(PatientCall.patient_id == patient.id).values(note=None))
    # nobody is to be called any more: open tasks end with the erasure, and their notes go with it
    tasks = update(FollowUpTask).where(FollowUpTask.patient_id == patient.id)
    session.execute(tasks.values(note=None), execution_options={"synchronize_session": False})
    session.execute(tasks.where(FollowUpTask.done_at.is_(None)).values(done_at=now))


def _handle_mail(session: Session, patient: Patient, identifiers: tuple[str, ...], report: ErasureReport, *,
                 now: datetime, settings: Settings) -> None:  # fmt: skip
    """Stop or rewrite unsent mail about the patient, report delivered mail, scrub our stored copies."""
    search_ids = select(Search.id).where(Search.patient_id == patient.id)
    inquiry_ids = select(InquiryItem.inquiry_id).where(InquiryItem.search_id.in_(search_ids))
    mails = session.scalars(
        select(Email).where(or_(Email.patient_id == patient.id, Email.inquiry_id.in_(inquiry_ids))).order_by(Email.id)
    ).all()
    for mail in mails:
        asks_practice = mail.patient_id != patient.id and mail.template in ASKING_TEMPLATES
        if mail.status in UNSENT and asks_practice and _rewrite(session, mail, now=now, settings=settings):
            report.mails_rewritten += 1
            continue
        if mail.status in UNSENT:
            mail.status, mail.next_attempt_at, mail.last_error = EmailStatus.DEAD, None, "patient erased (Art. 17)"
            report.mails_stopped += 1
        elif mail.patient_id != patient.id and (mail.status != EmailStatus.DEAD or mail.sent_at is not None):
            report.delivered.append(_delivered(session, mail))
        if mail.patient_id == patient.id:
            mail.to_address, mail.subject, mail.body_text, mail.body_html = (
                "geloescht@invalid.example", SCRUBBED, SCRUBBED, None)  # fmt: skip
        else:  # a practice's mail also about other patients: keep it, without the old reference or any name
            mail.subject = _scrub(mail.subject, identifiers)
            mail.body_text = _scrub(mail.body_text, identifiers)
            mail.body_html = _scrub(mail.body_html, identifiers) if mail.body_html else None
    own_mail_ids = select(Email.id).where(Email.patient_id == patient.id)
    inbound_store.scrub_for_erasure(session, email_ids=own_mail_ids, inquiry_ids=inquiry_ids,
                                    scrub=lambda text: _scrub(text, identifiers) if text else SCRUBBED)  # fmt: skip


def _scrub(text: str, identifiers: tuple[str, ...]) -> str:
    for value in sorted(identifiers, key=len, reverse=True):  # "Anna Muster" before a shorter overlap
        text = text.replace(value, SCRUBBED)
        text = text.replace(html.escape(value), SCRUBBED)
    return text


def _rewrite(session: Session, mail: Email, *, now: datetime, settings: Settings) -> bool:
    """Render a queued inquiry or reminder again with the patients still pending; False if none is left."""
    try:
        context = outbox.inquiry_context(session, inquiry_id=mail.inquiry_id, now=now, settings=settings)
    except ValidationError:  # nobody left to ask
        return False
    rendered = templates.render(mail.template, language=mail.language, context=context)
    mail.subject, mail.body_text, mail.body_html = rendered.subject[:300], rendered.text, rendered.html
    return True


def _delivered(session: Session, mail: Email) -> DeliveredMail:
    inquiry = session.get(Inquiry, mail.inquiry_id) if mail.inquiry_id else None
    therapist = session.get(Therapist, mail.therapist_id or (inquiry.therapist_id if inquiry else None) or 0)
    practice = session.get(Practice, inquiry.practice_id) if inquiry and inquiry.practice_id else None
    name = practice.name if practice else (_therapist_name(therapist) or mail.to_address)
    return DeliveredMail(sent_on=clock.local_date(mail.sent_at or mail.updated_at), recipient=name,
                         template=mail.template, inquiry_reference=inquiry.reference if inquiry else None)  # fmt: skip


def erase_everywhere(
    engine: Engine,
    *,
    patient_id: int,
    actor: str,
    reason: str,
    now: datetime,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> ErasureReport:
    """Erase in one transaction, then purge local mail copies and logs and compact the database.

    The one place that commits: files and VACUUM cannot be part of the erasure's transaction. The final
    report is stored in the audit log (``patient.erasure_completed``) without the patient's identifiers.
    """
    settings = settings or get_settings()
    with session_scope(engine) as session:
        report = erase(session, patient_id=patient_id, actor=actor, reason=reason, now=now, actor_id=actor_id,
                       settings=settings)  # fmt: skip
    purged = residue.purge_local_copies(settings.data_dir, report.identifiers)
    report.local_mails_deleted, report.log_lines_redacted = purged.mails_deleted, purged.log_lines_redacted
    with session_scope(engine) as session:
        audit.record(session, actor=actor, actor_id=actor_id, action="patient.erasure_completed",
                     entity_type="patient", entity_id=patient_id, details=report.as_dict())  # fmt: skip
    report.storage = residue.compact_database(engine, embedded=settings.database_url is None)
    with session_scope(engine) as session:  # the compaction's outcome, for the page and the operator
        audit.record(session, actor=actor, actor_id=actor_id, action="patient.erasure_storage",
                     entity_type="patient", entity_id=patient_id, details={"storage": report.storage})  # fmt: skip
    return report


def erasure_report(session: Session, *, patient_id: int) -> dict[str, Any] | None:
    """Return the stored report of the patient's erasure (the most complete one), or None."""
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == str(patient_id),
               AuditEvent.action.in_(["patient.erased", "patient.erasure_completed", "patient.erasure_storage"]))
        .order_by(AuditEvent.id)
    ).all()  # fmt: skip
    if not rows:
        return None
    merged: dict[str, Any] = {}
    for _action, details in rows:
        merged.update(details or {})
    return merged
