"""Communication history: mails, calls and answers of a patient, a therapist or one inquiry, newest first.

A patient's timeline holds the mails to the patient and, for every inquiry that asked about the patient,
the inquiry's mails and calls and the practice's answer about this patient. A therapist's timeline holds
the mails and calls to the therapist and the answers given. An inquiry thread holds everything of one
inquiry. Example:

    entries(session, patient_id=12)[0]
    -> TimelineEntry(at=..., kind="answer", title="accepted", detail="A-2026-000123", status="link", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.communication.inbound_models import InboundKind, InboundMail
from core.communication.models import Email, PhoneCall
from core.errors import ValidationError
from core.matching.models import Inquiry, InquiryItem, ItemOutcome
from core.messages import Message
from core.patients.models import Patient, Search


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "mail", "call", "answer", or "reply"/"bounce" (inbound mail)
    title: str  # mail subject or template, call outcome, answer outcome
    status: str  # mail status, call status, answer source
    inquiry_id: int | None
    inquiry_reference: str | None
    detail: str  # e.g. the recipient, the call notes, the patient reference
    record_id: int


def _inquiry_ids(session: Session, *, patient_id: int | None, therapist_id: int | None,
                 inquiry_id: int | None) -> list[int]:  # fmt: skip
    if inquiry_id is not None:
        return [inquiry_id]
    if therapist_id is not None:
        return list(session.scalars(select(Inquiry.id).where(Inquiry.therapist_id == therapist_id)))
    return list(
        session.scalars(
            select(InquiryItem.inquiry_id).join(Search, Search.id == InquiryItem.search_id)
            .where(Search.patient_id == patient_id).distinct()
        )
    )  # fmt: skip


def _inbound(session: Session, ids: list[int], own_mail, references: dict[int, str], limit: int) -> list[TimelineEntry]:
    """Replies and bounces fetched by jobs.fetch_mail: kind "reply" or "bounce", status "open" or "handled"."""
    where = InboundMail.inquiry_id.in_(ids)
    if own_mail is not None:  # replies to mails of the patient or therapist themselves
        where = or_(where, InboundMail.email_id.in_(select(Email.id).where(own_mail)))
    rows = session.scalars(select(InboundMail).where(where, InboundMail.kind != InboundKind.OTHER)
                           .order_by(InboundMail.id.desc()).limit(limit))  # fmt: skip
    return [
        TimelineEntry(
            at=row.received_at,
            kind=row.kind.value,
            title=row.subject,
            status="handled" if row.handled_at else "open",
            inquiry_id=row.inquiry_id,
            inquiry_reference=references.get(row.inquiry_id),
            detail=(row.failed_address if row.kind == InboundKind.BOUNCE else row.from_address) or "",
            record_id=row.id,
        )
        for row in rows
    ]


def entries(session: Session, *, patient_id: int | None = None, therapist_id: int | None = None,
            inquiry_id: int | None = None, limit: int = 200) -> list[TimelineEntry]:  # fmt: skip
    """Return the newest ``limit`` entries for exactly one of patient, therapist or inquiry."""
    if sum(value is not None for value in (patient_id, therapist_id, inquiry_id)) != 1:
        raise ValidationError(
            Message(
                "timeline.one_subject", "Give exactly one of patient_id, therapist_id or inquiry_id, e.g. patient_id=12"
            ),
            field="patient_id",
        )
    ids = _inquiry_ids(session, patient_id=patient_id, therapist_id=therapist_id, inquiry_id=inquiry_id)
    references = dict(session.execute(select(Inquiry.id, Inquiry.reference).where(Inquiry.id.in_(ids))).all())
    own_mail = Email.patient_id == patient_id if patient_id is not None else Email.therapist_id == therapist_id
    mail_filter = Email.inquiry_id.in_(ids) if inquiry_id is not None else or_(own_mail, Email.inquiry_id.in_(ids))
    result = [
        TimelineEntry(
            at=mail.sent_at or mail.created_at,
            kind="mail",
            title=mail.subject,
            status=mail.status.value,
            inquiry_id=mail.inquiry_id,
            inquiry_reference=references.get(mail.inquiry_id),
            detail=mail.to_address,
            record_id=mail.id,
        )
        for mail in session.scalars(select(Email).where(mail_filter).order_by(Email.id.desc()).limit(limit))
    ]
    call_filter = PhoneCall.inquiry_id.in_(ids)
    if patient_id is not None and inquiry_id is None:
        call_filter = or_(call_filter, PhoneCall.patient_id == patient_id)
    elif therapist_id is not None:
        call_filter = or_(call_filter, PhoneCall.therapist_id == therapist_id)
    result += [
        TimelineEntry(
            at=call.done_at or call.scheduled_for,
            kind="call",
            title=call.outcome or "scheduled",
            status=call.status.value,
            inquiry_id=call.inquiry_id,
            inquiry_reference=references.get(call.inquiry_id),
            detail=call.notes or "",
            record_id=call.id,
        )
        for call in session.scalars(select(PhoneCall).where(call_filter).order_by(PhoneCall.id.desc()).limit(limit))
    ]
    answers = (
        select(InquiryItem, Patient.reference)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
        .where(InquiryItem.inquiry_id.in_(ids), InquiryItem.answered_at.is_not(None),
               InquiryItem.outcome != ItemOutcome.PENDING)
    )  # fmt: skip
    if patient_id is not None:
        answers = answers.where(Search.patient_id == patient_id)
    result += [
        TimelineEntry(
            at=item.answered_at,
            kind="answer",
            title=item.outcome.value,
            status=item.answer_source.value if item.answer_source else "",
            inquiry_id=item.inquiry_id,
            inquiry_reference=references.get(item.inquiry_id),
            detail=reference,
            record_id=item.id,
        )
        for item, reference in session.execute(answers.order_by(InquiryItem.answered_at.desc()).limit(limit))
    ]
    result += _inbound(session, ids, own_mail if inquiry_id is None else None, references, limit)
    result.sort(key=lambda entry: (entry.at, entry.kind, entry.record_id), reverse=True)
    return result[:limit]
