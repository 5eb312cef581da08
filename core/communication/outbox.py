"""The transactional outbox: render a mail and write it as a queued Email row in the caller's transaction.

The sender job (core.communication.sender) delivers queued rows; nothing here talks to SMTP. The contexts
below build what the templates need from the database; the inquiry context is pseudonymised (patient
reference, age, gender, insurance type, symptoms, diagnoses, availability, procedure wish; never name,
address, e-mail or phone) and carries one signed answer link per open item.

How to queue an inquiry in the same transaction as its approval (the lead wires this in)::

    with session_scope() as session:
        inquiry = matching.approve(session, inquiry_id=4, actor=user.email, now=now)
        context = inquiry_context(session, inquiry_id=inquiry.id, now=now)
        enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, now=now)
        matching.mark_queued(session, inquiry_id=inquiry.id, actor=user.email, now=now)

The reminder is the same call with ``template="reminder"`` (its context also needs ``sent_on``, which
``inquiry_context`` fills from the inquiry).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import Integer, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core import clock
from core.audit import service as audit
from core.communication import links, selfservice_links, templates
from core.communication.models import Email, EmailStatus
from core.config import Settings, get_settings
from core.contact import display_phone, validate_email
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.matching import inquiries
from core.matching.models import OPEN_INQUIRY_STATUSES, Inquiry, InquiryItem, ItemOutcome, Placement
from core.matching.queries import therapist_name
from core.messages import Message, missing
from core.patients.models import Patient, Search
from core.patients.rules import age_on
from core.therapists.models import ContactChannel, Practice, Therapist
from core.therapists.phone_hours import format_phone_hours

ACTOR = "system:outbox"


def _recipient(to_address: str | None, template: str) -> str:
    """Return the checked recipient address; a missing one is refused naming the mail."""
    address = validate_email(to_address, field="to_address")
    if address is None:
        raise ValidationError(
            Message(
                "mail.recipient_missing",
                "Mail '{template}' needs a recipient address, e.g. praxis@example.org",
                template=template,
            ),
            field="to_address",
        )
    return address


def _message_id(settings: Settings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def enqueue(
    session: Session,
    *,
    template: str,
    to_address: str | None,
    context: Mapping[str, Any],
    language: str = "de",
    inquiry_id: int | None = None,
    patient_id: int | None = None,
    therapist_id: int | None = None,
    now: datetime,
    actor: str = ACTOR,
    settings: Settings | None = None,
) -> Email:
    """Render ``template`` and add a queued Email row (unique message_id, due ``now``); does not commit.

    Raises ValidationError for a missing/invalid address or a missing template value, before writing.
    """
    settings = settings or get_settings()
    address = _recipient(to_address, template)
    mail = templates.render(template, language=language, context=context)
    email = Email(
        template=template,
        language=templates.template_language(template, language),
        to_address=address,
        subject=mail.subject[:300],
        body_text=mail.text,
        body_html=mail.html,
        message_id=_message_id(settings),
        status=EmailStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        inquiry_id=inquiry_id,
        patient_id=patient_id,
        therapist_id=therapist_id,
    )
    session.add(email)
    session.flush()
    audit.record(session, actor=actor, action="email.queued", entity_type="email", entity_id=email.id,
                 details={"template": template, "inquiry_id": inquiry_id, "patient_id": patient_id,
                          "therapist_id": therapist_id})  # fmt: skip
    events.emit(session, "email.queued", aggregate_type="email", aggregate_id=email.id,
                payload={"template": template, "inquiry_id": inquiry_id})  # fmt: skip
    return email


_ENQUEUE_ALL_COLUMNS = ("to_address", "subject", "body_text", "body_html", "message_id", "inquiry_id", "patient_id",
                        "therapist_id")  # fmt: skip
# the columns ``enqueue`` sets (with the model's defaults) in one statement: arrays instead of one bound row each
_ENQUEUE_ALL = text(
    "INSERT INTO email (template, language, to_address, subject, body_text, body_html, message_id, status, attempts,"
    " next_attempt_at, needs_review, inquiry_id, patient_id, therapist_id) "
    "SELECT :template, :language, mail.to_address, mail.subject, mail.body_text, mail.body_html, mail.message_id,"
    " :status, 0, :now, false, mail.inquiry_id, mail.patient_id, mail.therapist_id "
    "FROM unnest(CAST(:to_address AS text[]), CAST(:subject AS text[]), CAST(:body_text AS text[]),"
    " CAST(:body_html AS text[]), CAST(:message_id AS text[]), CAST(:inquiry_id AS integer[]),"
    " CAST(:patient_id AS integer[]), CAST(:therapist_id AS integer[])) WITH ORDINALITY"
    " AS mail (to_address, subject, body_text, body_html, message_id, inquiry_id, patient_id, therapist_id, position)"
    " ORDER BY mail.position "
    "RETURNING email.message_id, email.id"
)


def enqueue_all(
    session: Session,
    *,
    template: str,
    mails: list[tuple[str | None, Mapping[str, Any], dict[str, int | None]]],
    language: str = "de",
    now: datetime,
    actor: str = ACTOR,
    settings: Settings | None = None,
) -> list[int]:
    """``enqueue`` for many mails: ``mails`` holds (to_address, context, ids) with ids the keys inquiry_id,
    patient_id, therapist_id; rendered first (any error before writing), then one INSERT per table.

    Returns the new Email ids in the order of ``mails``; writes the rows ``enqueue`` writes one by one.
    """
    settings = settings or get_settings()
    used = templates.template_language(template, language)
    rows = []
    for to_address, context, ids in mails:
        address = _recipient(to_address, template)
        mail = templates.render(template, language=language, context=context)
        rows.append({"to_address": address, "subject": mail.subject[:300], "body_text": mail.text,
                     "body_html": mail.html, "message_id": _message_id(settings),
                     "inquiry_id": ids.get("inquiry_id"), "patient_id": ids.get("patient_id"),
                     "therapist_id": ids.get("therapist_id")})  # fmt: skip
    if not rows:
        return []
    columns = {column: [row[column] for row in rows] for column in _ENQUEUE_ALL_COLUMNS}
    session.flush()  # rows the session holds come first, as with the ORM insert
    params = {"template": template, "language": used, "status": EmailStatus.QUEUED.value, "now": now, **columns}
    ids_by_message = dict(session.execute(_ENQUEUE_ALL, params).all())
    email_ids = [ids_by_message[row["message_id"]] for row in rows]
    audit.record_all(session, actor=actor, action="email.queued", entity_type="email", rows=[
        (email_id, {"template": template, "inquiry_id": row["inquiry_id"], "patient_id": row["patient_id"],
                    "therapist_id": row["therapist_id"]})
        for email_id, row in zip(email_ids, rows, strict=True)
    ])  # fmt: skip
    events.emit_all(session, "email.queued", aggregate_type="email", events=[
        (email_id, {"template": template, "inquiry_id": row["inquiry_id"]})
        for email_id, row in zip(email_ids, rows, strict=True)
    ])  # fmt: skip
    return email_ids


def availability_text(windows: list[dict[str, Any]] | None, *, weekly_hours: float | None = None,
                      language: str = "de") -> str:  # fmt: skip
    """Return a patient's weekly windows as text, e.g. 'Mo–Mi 08:00–12:00 (12 h pro Woche)'."""
    hours: dict[str, list[list[str]]] = {}
    for window in windows or []:
        hours.setdefault(str(window["weekday"]), []).append([window["start"], window["end"]])
    text = format_phone_hours(hours, language=language)
    if weekly_hours:
        hours_text = _hours_text(weekly_hours, language)
        total = f"{hours_text} h {'pro Woche' if language == 'de' else 'per week'}"  # "33,5 h pro Woche"
        text = f"{text} ({total})" if text else total
    return text


@lru_cache(maxsize=1024)
def _hours_text(weekly_hours: float, language: str) -> str:
    # Babel's formatting costs about a millisecond; a reminder run formats the same few values thousands of times
    return format_decimal(weekly_hours, format="0.#", locale="de_DE" if language == "de" else "en_GB")


def therapist_address(therapist: Therapist, practice: Practice | None) -> str:
    street = (practice.street if practice else None) or therapist.street
    postcode = (practice.postcode if practice else None) or therapist.postcode
    city = (practice.city if practice else None) or therapist.city
    return ", ".join(p for p in (street, " ".join(x for x in (postcode, city) if x)) if p)


def recipient(therapist: Therapist, practice: Practice | None) -> str | None:
    """The address inquiries go to: the therapist's own e-mail, else the practice's."""
    return therapist.email or (practice.email_normalized if practice else None)


def item_summary(patient: Any, search: Search | None, *, asked_on: date) -> dict[str, Any]:
    """The pseudonymous summary of one patient shown to a therapist (no name, address, e-mail or phone).

    ``patient``: a Patient or a row with its summary columns (``_SUMMARY_COLUMNS``); ``search`` is not read.
    """
    return {
        "patient_reference": patient.reference,
        "age": age_on(patient.birth_date, asked_on),
        "gender": patient.gender,
        "insurance_type": patient.insurance_type or "none",
        "symptoms": ", ".join(patient.symptoms or []),
        "diagnoses": ", ".join(patient.diagnoses or []),
        "availability": availability_text(patient.availability, weekly_hours=patient.weekly_hours),
        "procedure_wish": "/".join(patient.procedure_wishes or []) or "any",
    }


def _inquiry_rows(session: Session, inquiry_id: int) -> tuple[Inquiry, Therapist, Practice | None]:
    inquiry = inquiries.get(session, inquiry_id=inquiry_id)
    therapist = session.get(Therapist, inquiry.therapist_id)
    practice = session.get(Practice, inquiry.practice_id) if inquiry.practice_id else None
    return inquiry, therapist, practice


def inquiry_context(
    session: Session, *, inquiry_id: int, now: datetime, settings: Settings | None = None
) -> dict[str, Any]:
    """Return the context of the "inquiry" and "reminder" mails: the pending items, each with an answer link.

    Links expire ANSWER_LINK_DAYS after ``now``. Keys: reference, therapist_name, practice_name, items,
    expires_on, sent_on, to_address. Raises ValidationError when no patient is left to ask.
    """
    settings = settings or get_settings()
    inquiry, therapist, practice = _inquiry_rows(session, inquiry_id)
    rows = _pending_rows(session, [inquiry.id]).get(inquiry.id)
    if not rows:
        raise ValidationError(
            Message(
                "mail.nothing_to_send",
                "Inquiry {inquiry} has no patient left to ask; nothing to send",
                inquiry=inquiry.reference,
            ),
            field="inquiry_id",
        )
    return _inquiry_context(inquiry, therapist, practice, rows, now=now, settings=settings)


@dataclass(frozen=True)
class Contacts:
    """Therapists and practices a batch step already loaded, by id; the others are read through the session.

    The values may be rows with only the columns the steps read (name, title, e-mail, phone hours, contact channel).
    """

    therapists: Mapping[int, Any] = field(default_factory=dict)
    practices: Mapping[int, Any] = field(default_factory=dict)

    def of(self, session: Session, inquiry: Inquiry) -> tuple[Any, Any | None]:
        """The therapist and practice (None without one) of ``inquiry``."""
        therapist = self.therapists.get(inquiry.therapist_id) or session.get(Therapist, inquiry.therapist_id)
        if not inquiry.practice_id:
            return therapist, None
        return therapist, self.practices.get(inquiry.practice_id) or session.get(Practice, inquiry.practice_id)

    def recipient(self, session: Session, inquiry: Inquiry) -> str | None:
        """``recipient`` of the inquiry's therapist and practice (None if neither exists or has an address)."""
        therapist, practice = self.of(session, inquiry)
        return (therapist.email if therapist else None) or (practice.email_normalized if practice else None)


def inquiry_contexts(
    session: Session,
    *,
    inquiries: list[Inquiry],
    now: datetime,
    settings: Settings | None = None,
    contacts: Contacts | None = None,
) -> dict[int, dict[str, Any]]:
    """``inquiry_context`` for many inquiries with one query for their patients; those with none left are left out.

    Their therapists and practices come from ``contacts``, else from the session.
    """
    settings = settings or get_settings()
    contacts = contacts or Contacts()
    rows = _pending_rows(session, [inquiry.id for inquiry in inquiries])
    secret = settings.resolved_secret_key()  # once: it may be read from a file
    contexts = {}
    for inquiry in inquiries:
        if rows.get(inquiry.id):
            therapist, practice = contacts.of(session, inquiry)
            contexts[inquiry.id] = _inquiry_context(inquiry, therapist, practice, rows[inquiry.id], now=now,
                                                    settings=settings, secret=secret)  # fmt: skip
    return contexts


# what item_summary reads of a patient: the pending rows are read as plain rows, not ORM objects (faster in bulk)
_SUMMARY_COLUMNS = (
    Patient.reference,
    Patient.birth_date,
    Patient.gender,
    Patient.insurance_type,
    Patient.symptoms,
    Patient.diagnoses,
    Patient.availability,
    Patient.weekly_hours,
    Patient.procedure_wishes,
)


def _pending_rows(session: Session, inquiry_ids: list[int]) -> dict[int, list[tuple[int, Any]]]:
    """(item id, the patient's summary columns) of the pending items of ``inquiry_ids``, in item order."""
    rows: dict[int, list[tuple[int, Any]]] = {}
    for row in session.execute(
        select(InquiryItem.inquiry_id, InquiryItem.id.label("item_id"), *_SUMMARY_COLUMNS)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .where(
            InquiryItem.inquiry_id == any_(bindparam(None, inquiry_ids, type_=ARRAY(Integer))),
            InquiryItem.outcome == ItemOutcome.PENDING,
        )
        .order_by(InquiryItem.inquiry_id, InquiryItem.id)
    ):
        rows.setdefault(row.inquiry_id, []).append((row.item_id, row))
    return rows


def _inquiry_context(inquiry: Inquiry, therapist: Therapist, practice: Practice | None,
                     rows: list[tuple[int, Any]], *, now: datetime, settings: Settings,
                     secret: str | None = None) -> dict[str, Any]:  # fmt: skip
    expires_at = now + timedelta(days=settings.answer_link_days)
    secret = secret or settings.resolved_secret_key()
    asked_on = clock.local_date(inquiry.created_at, settings)
    items = []
    for item_id, patient in rows:
        token = links.make_token(item_id, secret=secret, expires_at=expires_at)
        items.append({**item_summary(patient, None, asked_on=asked_on), "item_id": item_id,
                      "answer_url": links.answer_url(settings.public_base_url, token)})  # fmt: skip
    return {
        "reference": inquiry.reference,
        "therapist_name": therapist_name(therapist),
        "practice_name": practice.name if practice else therapist_name(therapist),
        "items": items,
        "expires_on": clock.local_date(expires_at, settings),
        "sent_on": clock.local_date(inquiry.sent_at or now, settings),
        "to_address": recipient(therapist, practice),
        "capacity_url": selfservice_links.capacity_url(therapist.id, now=now, settings=settings, secret=secret),
    }


def answer_ack_context(session: Session, *, inquiry_id: int, item_ids: list[int] | None = None) -> dict[str, Any]:
    """Return the context of "answer_ack": the recorded answers (all answered items, or ``item_ids``)."""
    inquiry, therapist, practice = _inquiry_rows(session, inquiry_id)
    query = (
        select(InquiryItem, Patient)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .where(InquiryItem.inquiry_id == inquiry.id, InquiryItem.answered_at.is_not(None))
        .order_by(InquiryItem.id)
    )
    if item_ids is not None:
        query = query.where(InquiryItem.id.in_(item_ids))
    answers = [{"patient_reference": p.reference, "outcome": i.outcome, "is_conflict": i.is_conflict}
               for i, p in session.execute(query).all()]  # fmt: skip
    return {"reference": inquiry.reference, "therapist_name": therapist_name(therapist),
            "practice_name": practice.name if practice else therapist_name(therapist), "answers": answers,
            "to_address": recipient(therapist, practice)}  # fmt: skip


def patient_context(session: Session, *, patient_id: int, now: datetime) -> dict[str, Any]:
    """Return the context of "search_started" and "status_update" for a patient's latest search."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(missing("patient", patient_id))
    search = session.scalar(select(Search).where(Search.patient_id == patient.id).order_by(Search.started_on.desc()))
    started_on = search.started_on if search else clock.local_date(now)
    asked = opened = 0
    if search is not None:
        asked, opened = session.execute(
            select(
                func.count(func.distinct(Inquiry.therapist_id)),
                func.count(func.distinct(Inquiry.id)).filter(Inquiry.status.in_(OPEN_INQUIRY_STATUSES)),
            )
            .join(InquiryItem, InquiryItem.inquiry_id == Inquiry.id)
            .where(InquiryItem.search_id == search.id, Inquiry.sent_at.is_not(None))
        ).one()
    return {
        "patient_name": f"{patient.first_name} {patient.last_name}",
        "patient_reference": patient.reference,
        "started_on": started_on,
        "waiting_days": max((clock.local_date(now) - started_on).days, 0),
        "practices_asked": asked,
        "open_inquiries": opened,
        "to_address": patient.email,
        "language": patient.contact_language if patient.contact_language in templates.LANGUAGES else "de",
        "status_url": selfservice_links.patient_url(patient.id, now=now),
    }


def placement_context(session: Session, *, item_id: int) -> dict[str, Any]:
    """Return the context of the placement mail for an accepted item, plus "template" (write or call).

    A practice reached by phone (contact channel "phone", or no e-mail) gets "placement_call".
    """
    item = inquiries.get_item(session, item_id=item_id)
    _inquiry, therapist, practice = _inquiry_rows(session, item.inquiry_id)
    patient = session.scalar(select(Patient).join(Search, Search.patient_id == Patient.id)
                             .where(Search.id == item.search_id))  # fmt: skip
    placement = session.scalar(select(Placement).where(Placement.inquiry_item_id == item.id))
    email = therapist.email or (practice.email_normalized if practice else None)
    phone = therapist.phone or (practice.phone if practice else None)
    hours = therapist.phone_hours or (practice.phone_hours if practice else None) or {}
    language = patient.contact_language if patient.contact_language in templates.LANGUAGES else "de"
    by_phone = (practice is not None and practice.contact_channel == ContactChannel.PHONE) or not email
    return {
        "template": "placement_call" if by_phone and phone else "placement_write",
        "patient_name": f"{patient.first_name} {patient.last_name}",
        "patient_reference": patient.reference,
        "therapist_name": therapist_name(therapist),
        "practice_name": practice.name if practice else therapist_name(therapist),
        "therapist_email": email,
        "therapist_phone": display_phone(phone) if phone else None,
        "therapist_address": therapist_address(therapist, practice),
        "phone_hours": format_phone_hours(hours, language=language),
        "first_session": (placement.first_session_on if placement else None) or item.proposed_first_session,
        "to_address": patient.email,
        "language": language,
    }
