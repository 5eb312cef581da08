"""File inbound mail: store it once (by Message-ID), attach it to its inquiry, act on bounces, count what is open.

``file_mail`` decides for one parsed mail (core.communication.inbound.parse):
- a reply is matched to the mail it answers (reply address, then In-Reply-To/References, then the inquiry
  reference in the subject) and stored with that mail's inquiry: it shows in the inquiry's thread and stays
  open (``handled_at`` empty) until staff mark it handled;
- a delivery-failure report marks the failed address as failing (FailingAddress, with the therapist and
  practice it belongs to) and moves the inquiry to the phone step of the follow-up ladder: a call in the
  next free slot of the practice's phone hours, inquiry -> call_scheduled (core.communication.followup);
- anything unmatched is stored as "other" for staff to look at.
A Message-ID seen before is skipped, so fetching the same mail twice changes nothing. Nothing here commits.
Example:

    with session_scope() as session:
        result = file_mail(session, parsed=inbound.parse(raw), now=now)   # -> Filed(inbound_id=3, ...)
        open_inbound_counts(session)  # -> {"replies": 1, "bounces": 0, "other": 0}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.communication import calls, inbound
from core.communication.inbound_failing import failing_addresses
from core.communication.inbound_models import FailingAddress, InboundKind, InboundMail
from core.communication.models import Email
from core.config import Settings, get_settings
from core.errors import NotFound
from core.events import service as events
from core.matching import inquiries
from core.matching.models import Inquiry, InquiryStatus
from core.messages import missing
from core.therapists.models import Practice, Therapist

ACTOR = "job:fetch_mail"
__all__ = ["Filed", "failing_addresses", "file_mail", "for_inquiry", "mark_failing", "mark_handled",
           "open_inbound_counts", "scrub_for_erasure"]  # fmt: skip
PHONE_STEP_FROM = (InquiryStatus.SENT, InquiryStatus.REMINDED)  # a bounce can only follow a mail that went out


@dataclass(frozen=True)
class Filed:
    inbound_id: int | None  # None: seen before, nothing written
    kind: InboundKind | None
    inquiry_id: int | None = None
    call_id: int | None = None  # the call a bounce scheduled

    @property
    def new(self) -> bool:
        return self.inbound_id is not None


def _email_by_message_id(session: Session, message_ids: tuple[str, ...]) -> Email | None:
    for message_id in message_ids:
        found = session.scalar(select(Email).where(Email.message_id == message_id))
        if found is not None:
            return found
    return None


Match = tuple[Email | None, int | None, str | None]


def _match_reply(session: Session, parsed: inbound.ParsedMail, settings: Settings) -> Match:
    """Return (the mail answered, its inquiry id, how it was matched)."""
    email_id = inbound.reply_mail_id(parsed.recipients, mail_from=settings.mail_from)
    answered = session.get(Email, email_id) if email_id is not None else None
    if answered is not None:
        return answered, answered.inquiry_id, "reply_address"
    answered = _email_by_message_id(session, parsed.answers_ids)
    if answered is not None:
        return answered, answered.inquiry_id, "in_reply_to"
    for reference in parsed.references:
        inquiry_id = session.scalar(select(Inquiry.id).where(Inquiry.reference == reference))
        if inquiry_id is not None:
            return None, inquiry_id, "subject"
    return None, None, None


def _owner(session: Session, address: str, failed: Email | None) -> tuple[int | None, int | None]:
    """Return (therapist id, practice id) whose contact address ``address`` is."""
    therapist = session.get(Therapist, failed.therapist_id) if failed and failed.therapist_id else None
    if therapist is None or (therapist.email or "").lower() != address:
        therapist = session.scalar(select(Therapist).where(func.lower(Therapist.email) == address).limit(1))
    practice_id = session.scalar(select(Practice.id).where(func.lower(Practice.email_normalized) == address).limit(1))
    if practice_id is None and therapist is not None:
        practice_id = therapist.practice_id
    return (therapist.id if therapist else None), practice_id


def mark_failing(session: Session, *, address: str, reason: str, now: datetime, inbound_id: int | None = None,
                 failed: Email | None = None, actor: str = ACTOR) -> FailingAddress:  # fmt: skip
    """Record that mail to ``address`` bounces (again); a cleared record becomes failing again."""
    address = address.strip().lower()
    row = session.scalar(select(FailingAddress).where(FailingAddress.address == address).with_for_update())
    therapist_id, practice_id = _owner(session, address, failed)
    if row is None:
        row = FailingAddress(address=address)
        session.add(row)
    row.therapist_id, row.practice_id = therapist_id or row.therapist_id, practice_id or row.practice_id
    row.reason, row.failed_at, row.cleared_at, row.inbound_mail_id = reason[:500], now, None, inbound_id
    session.flush()
    audit.record(session, actor=actor, action="mail_address.failing", entity_type="failing_address", entity_id=row.id,
                 details={"therapist_id": row.therapist_id, "practice_id": row.practice_id,
                          "inbound_mail_id": inbound_id})  # fmt: skip
    return row


def _to_phone_step(session: Session, inquiry_id: int | None, *, now: datetime, settings: Settings,
                   actor: str = ACTOR) -> int | None:  # fmt: skip
    """Move the inquiry of a bounced mail to its phone call; return the call id (None if not on that step)."""
    if inquiry_id is None:
        return None
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    if inquiry.status not in PHONE_STEP_FROM:
        return None
    call = calls.schedule_call(session, inquiry=inquiry, after=now, attempt=1, actor=actor, settings=settings)
    if call is None:  # no slot in the horizon: the ladder tries again, the bounce stays open on "Heute"
        return None
    inquiries.move(session, inquiry, InquiryStatus.CALL_SCHEDULED, actor=actor, reason="mail bounced",
                   details={"call_id": call.id})  # fmt: skip
    inquiry.call_scheduled_at = now
    return call.id


def file_mail(session: Session, *, parsed: inbound.ParsedMail, now: datetime,
              settings: Settings | None = None, actor: str = ACTOR) -> Filed:  # fmt: skip
    """Store ``parsed`` once and act on it (see the module docstring); ``actor`` is who the audit names."""
    settings = settings or get_settings()
    if session.scalar(select(InboundMail.id).where(InboundMail.message_id == parsed.message_id)) is not None:
        return Filed(inbound_id=None, kind=None)
    failed_mail = answered = None
    inquiry_id = matched_by = None
    if parsed.is_bounce:
        failed_mail = _email_by_message_id(session, (parsed.original_message_id,) if parsed.original_message_id else ())
        if failed_mail is None and parsed.failed_address:  # the report did not return the headers
            failed_mail = session.scalar(select(Email).where(func.lower(Email.to_address) == parsed.failed_address)
                                         .order_by(Email.id.desc()).limit(1))  # fmt: skip
        kind = InboundKind.BOUNCE
        inquiry_id = failed_mail.inquiry_id if failed_mail else None
        matched_by = "in_reply_to" if failed_mail else None
    else:
        answered, inquiry_id, matched_by = _match_reply(session, parsed, settings)
        kind = InboundKind.REPLY if matched_by else InboundKind.OTHER
    row = InboundMail(
        message_id=parsed.message_id, kind=kind, received_at=parsed.received_at or now,
        from_address=(parsed.from_address or "")[:254] or None, subject=parsed.subject,
        body_text=parsed.body_text, matched_by=matched_by, inquiry_id=inquiry_id,
        email_id=(failed_mail or answered).id if (failed_mail or answered) else None,
        failed_address=(parsed.failed_address or (failed_mail.to_address if failed_mail else None) or "")[:254] or None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    call_id = None
    if kind == InboundKind.BOUNCE and row.failed_address:
        mark_failing(session, address=row.failed_address, reason=parsed.diagnostic or "delivery failed", now=now,
                     inbound_id=row.id, failed=failed_mail, actor=actor)  # fmt: skip
        call_id = _to_phone_step(session, inquiry_id, now=now, settings=settings, actor=actor)
    audit.record(session, actor=actor, action=f"inbound_mail.{kind.value}", entity_type="inbound_mail",
                 entity_id=row.id, details={"inquiry_id": inquiry_id, "matched_by": matched_by,
                                            "call_id": call_id})  # fmt: skip
    events.emit(session, f"inbound_mail.{kind.value}", aggregate_type="inbound_mail", aggregate_id=row.id,
                payload={"inquiry_id": inquiry_id, "call_id": call_id})  # fmt: skip
    return Filed(inbound_id=row.id, kind=kind, inquiry_id=inquiry_id, call_id=call_id)


def mark_handled(session: Session, *, inbound_id: int, actor: str, now: datetime) -> InboundMail:
    """Take an inbound mail off the open list (staff read it and acted); a second call changes nothing."""
    row = session.get(InboundMail, inbound_id, with_for_update=True)
    if row is None:
        raise NotFound(missing("inbound_mail", inbound_id))
    if row.handled_at is None:
        row.handled_at, row.handled_by = now, actor
        audit.record(session, actor=actor, action="inbound_mail.handled", entity_type="inbound_mail", entity_id=row.id)
        session.flush()
    return row


def for_inquiry(session: Session, *, inquiry_id: int, actor: str, actor_id: int | None = None) -> list[InboundMail]:
    """Return the replies and bounces of one inquiry, open ones first, and audit the read (bodies are personal data)."""
    order = (InboundMail.handled_at.is_not(None), InboundMail.received_at.desc())
    rows = list(session.scalars(select(InboundMail).where(InboundMail.inquiry_id == inquiry_id).order_by(*order)))
    if rows:
        audit.record_read(session, actor=actor, actor_id=actor_id, what="inbound_mail", page="inquiry_thread",
                          entity_type="inquiry", entity_id=inquiry_id,
                          details={"inbound_ids": [r.id for r in rows]})  # fmt: skip
    return rows


def scrub_for_erasure(session: Session, *, email_ids, inquiry_ids, scrub: Callable[[str], str]) -> int:
    """Art. 17: blank replies to the erased patient's own mails, ``scrub`` their identifiers out of the others.

    ``email_ids`` and ``inquiry_ids`` are selectables of the patient's mails and inquiries; returns the rows touched.
    """
    rows = session.scalars(select(InboundMail).where(or_(InboundMail.email_id.in_(email_ids),
                                                         InboundMail.inquiry_id.in_(inquiry_ids)))).all()  # fmt: skip
    own = set(session.scalars(select(Email.id).where(Email.id.in_(email_ids))))
    for row in rows:
        if row.email_id in own:  # the patient wrote it: nothing of it may stay
            row.from_address, row.subject, row.body_text = None, scrub(""), scrub("")
        else:
            row.subject, row.body_text = scrub(row.subject)[:300], scrub(row.body_text)
            row.from_address = (
                None if row.from_address and scrub(row.from_address) != row.from_address else row.from_address
            )
    return len(rows)


def open_inbound_counts(session: Session) -> dict[str, int]:
    """Count the inbound mail nobody has handled yet, per kind: {"replies": 2, "bounces": 1, "other": 0}."""
    counts = dict(session.execute(select(InboundMail.kind, func.count()).where(InboundMail.handled_at.is_(None))
                                  .group_by(InboundMail.kind)).all())  # fmt: skip
    return {"replies": counts.get(InboundKind.REPLY, 0), "bounces": counts.get(InboundKind.BOUNCE, 0),
            "other": counts.get(InboundKind.OTHER, 0)}  # fmt: skip
