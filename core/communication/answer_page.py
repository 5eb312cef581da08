"""The public answer page's core: read a signed link, show the pseudonymous summary, record the answer.

No login: the signed token is the only credential, and it names exactly one inquiry item. ``load`` shows
what the therapist may see (the pseudonymous summary and, once answered, the recorded answer).
``submit`` records through ``core.matching.service.record_answer`` with source "link" (the same function
staff use) and queues the acknowledgement mail to the practice in the same transaction. It decides on the
item as it is once locked, so two submits at once queue behind each other and the second sees the first:
- the item is open: the answer is recorded;
- the patient was placed meanwhile (the item was withdrawn) and this is an offer: the offer is recorded as
  a conflict with its message, for staff to resolve (DESIGN 3.2: first acceptance wins, a later one is a
  conflict), and the therapist is told that the person found a place and that we get back to them;
- anything else (a reused link, a second click, a decline for a placed person): the recorded state is
  shown and nothing is written.
A tampered or expired link raises LinkError and writes nothing. ``notice`` names the message the page
shows for an answered item. Example:

    with session_scope() as session:
        view = submit(session, token=token, outcome="accepted", message="Termin am 7.12.", now=now)
        view.outcome, view.just_recorded, notice(view, answered_here=view.just_recorded)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.communication import links, outbox
from core.communication.dispatch import notify_placement
from core.config import Settings, get_settings
from core.errors import ValidationError
from core.matching import answers, inquiries
from core.matching import service as matching
from core.matching.models import InquiryStatus, ItemOutcome, Placement
from core.matching.queries import therapist_name
from core.messages import Message
from core.patients.models import Patient, Search
from core.therapists.models import Therapist

ANSWERS = (
    ItemOutcome.ACCEPTED,
    ItemOutcome.DECLINED_CAPACITY,
    ItemOutcome.DECLINED_UNSUITABLE,
    ItemOutcome.DECLINED_OTHER,
)
NOT_SENT = (InquiryStatus.PROPOSED, InquiryStatus.DISCARDED)


@dataclass(frozen=True)
class AnswerView:
    """What the public page shows for one link."""

    item_id: int
    reference: str  # the inquiry's reference, e.g. A-2026-000123
    therapist_name: str
    summary: dict[str, Any]  # pseudonymous: see core.communication.outbox.item_summary
    outcome: ItemOutcome
    answered_at: datetime | None
    answer_message: str | None
    proposed_first_session: date | None
    is_conflict: bool = False  # an offer that came too late: staff get back to the practice about its place
    placed_elsewhere: bool = False  # the person was placed through another inquiry item
    just_recorded: bool = False  # True only right after this very submit wrote the answer

    @property
    def open(self) -> bool:
        return self.outcome == ItemOutcome.PENDING


def notice(view: AnswerView, *, answered_here: bool) -> str:
    """Name the message for an answered item (a key under ``communication.answer.``).

    ``answered_here``: this browser just sent the answer. Example: a late offer right after sending ->
    "late_offer"; the same link opened a day later -> "late_offer_recorded".
    """
    if view.is_conflict and not view.placed_elsewhere:  # the search ended otherwise (e.g. cancelled)
        return "search_ended"
    if view.is_conflict:  # also after staff resolved it: the practice offered, we get back to them
        return "late_offer" if answered_here else "late_offer_recorded"
    if answered_here:
        return "thanks"
    if view.outcome == ItemOutcome.WITHDRAWN:
        return "placed_elsewhere"
    return "recorded" if view.answered_at is not None else "closed"


def _item_id(token: str | None, *, now: datetime, settings: Settings) -> int:
    return links.read_token(token, secret=settings.resolved_secret_key(), now=now)


def _view(session: Session, item_id: int, *, just_recorded: bool = False) -> AnswerView:
    item = inquiries.get_item(session, item_id=item_id)
    inquiry = inquiries.get(session, inquiry_id=item.inquiry_id)
    if inquiry.status in NOT_SENT:  # a signed link for an inquiry that never went out
        raise links.LinkError(
            Message("link.answer_invalid", "This answer link is not valid; the inquiry was never sent"),
            reason="invalid",
        )
    search, patient = session.execute(
        select(Search, Patient).join(Patient, Patient.id == Search.patient_id).where(Search.id == item.search_id)
    ).one()
    if patient.erased_at is not None:  # Art. 17: the link must show nothing about the patient any more
        raise links.LinkError(Message("link.answer_invalid", "This answer link is no longer valid"), reason="invalid")
    therapist = session.get(Therapist, inquiry.therapist_id)
    return AnswerView(
        item_id=item.id,
        reference=inquiry.reference,
        therapist_name=therapist_name(therapist),
        summary=outbox.item_summary(patient, search, asked_on=clock.local_date(inquiry.created_at)),
        outcome=item.outcome,
        answered_at=item.answered_at,
        answer_message=item.answer_message,
        proposed_first_session=item.proposed_first_session,
        is_conflict=item.is_conflict,
        placed_elsewhere=session.scalar(
            select(Placement.id).where(Placement.search_id == item.search_id, Placement.inquiry_item_id != item.id)
        )
        is not None,
        just_recorded=just_recorded,
    )


def load(session: Session, *, token: str | None, now: datetime, settings: Settings | None = None) -> AnswerView:
    """Return the view of a link; raise LinkError for a tampered, expired or unsent one. Reads only."""
    settings = settings or get_settings()
    return _view(session, _item_id(token, now=now, settings=settings))


def submit(
    session: Session,
    *,
    token: str | None,
    outcome: str | ItemOutcome,
    now: datetime,
    message: str | None = None,
    proposed_first_session: date | None = None,
    settings: Settings | None = None,
) -> AnswerView:
    """Record the therapist's answer for the link's item; see the module docstring for reused/invalid links."""
    settings = settings or get_settings()
    item_id = _item_id(token, now=now, settings=settings)
    _view(session, item_id)  # refuses a link of an inquiry that was never sent
    try:
        chosen = ItemOutcome(outcome)
    except ValueError:
        chosen = None
    if chosen not in ANSWERS:
        valid = ", ".join(a.value for a in ANSWERS)
        raise ValidationError(
            Message(
                "answer.outcome_unknown",
                "Answer '{outcome}' is not offered on this page; use one of {valid}",
                outcome=outcome,
                valid=valid,
            ),
            field="outcome",
        )
    if proposed_first_session is not None and proposed_first_session < clock.local_date(now):
        raise ValidationError(
            Message(
                "answer.first_session_past",
                "The first appointment {day:%d.%m.%Y} lies in the past; pick a later date",
                day=proposed_first_session,
            ),
            field="proposed_first_session",
        )
    if chosen != ItemOutcome.ACCEPTED:
        proposed_first_session = None
    answers.lock_item(session, item_id=item_id)  # a submit at the same moment has committed or waits for us
    current = _view(session, item_id)
    late_offer = current.outcome == ItemOutcome.WITHDRAWN and chosen == ItemOutcome.ACCEPTED
    if not current.open and not late_offer:  # answered already, or a decline for a person placed meanwhile
        return current
    inquiry_reference = current.reference
    result = matching.record_answer(
        session,
        item_id=item_id,
        outcome=chosen,
        actor=f"link:{inquiry_reference}",
        now=now,
        source="link",
        message=(message or "").strip()[:2000] or None,
        proposed_first_session=proposed_first_session,
        settings=settings,
    )
    inquiry = inquiries.get(session, inquiry_id=inquiries.get_item(session, item_id=item_id).inquiry_id)
    context = outbox.answer_ack_context(session, inquiry_id=inquiry.id, item_ids=[item_id])
    if context["to_address"] and result.changed:
        outbox.enqueue(
            session,
            template="answer_ack",
            to_address=context["to_address"],
            context=context,
            inquiry_id=inquiry.id,
            therapist_id=inquiry.therapist_id,
            now=now,
            actor=f"link:{inquiry_reference}",
            settings=settings,
        )
    notify_placement(session, result=result, actor=f"link:{inquiry_reference}", now=now)
    return _view(session, item_id, just_recorded=True)
