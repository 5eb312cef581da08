"""Recording a practice's answer per inquiry item: the one function staff, answer links and phone calls use.

Rules (DESIGN 3.2):
- **First acceptance wins.** The search becomes successful, the patient moves to in_therapy, a placement is
  recorded, and every other pending item of that search is withdrawn. A later acceptance for the same
  search is stored as accepted with ``is_conflict`` (no second placement) for staff to resolve.
- **Cooldown.** Any answer of the practice (accepted or declined) makes it cool down for
  MATCH_COOLDOWN_WEEKS from the day of the answer. "No answer", withdrawal and the later no-show /
  in-sessions updates are not answers of the practice and leave the cooldown alone.
- **Unsuitable** excludes the therapist from that search.
- **No-show** (only after an acceptance): the placement never began, so it is deleted, the search becomes
  active again (ended_on cleared), the patient goes back to searching, and the therapist is excluded from
  the search. The items withdrawn at the acceptance stay withdrawn; the next matching run proposes anew.
  This undoes a success, which the search and patient state machines otherwise never allow: it is
  audited as ``search.reopened`` / ``patient.status`` with reason "no_show".
- **In sessions** confirms the placement (first_session_confirmed_at).
- Recording the same answer again returns the existing one unchanged (answer links get clicked twice); a
  different answer on an answered item raises IllegalTransition naming the recorded answer.

Example:
    result = record_answer(session, item_id=7, outcome="accepted", actor="anna@example.org", now=now)
    result.placement_id, result.withdrawn_item_ids, result.reply_type
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import IllegalTransition, ValidationError
from core.events import service as events
from core.matching import inquiries, transitions
from core.matching.limits import local_today
from core.matching.models import (
    AnswerSource,
    Inquiry,
    InquiryItem,
    InquiryStatus,
    ItemOutcome,
    Placement,
    ReplyType,
)
from core.messages import Message, status, term, words
from core.patients import service as patients
from core.patients.models import PatientStatus, Search, SearchStatus
from core.therapists.models import Practice, Therapist

Out = ItemOutcome
ANSWERS = ("accepted", "declined_capacity", "declined_unsuitable", "declined_other", "no_answer")
OUTCOME_EXAMPLE = words([term(f"outcome.{name}", name) for name in ANSWERS])


@dataclass(frozen=True)
class AnswerResult:
    """What recording one answer did."""

    item_id: int
    outcome: ItemOutcome
    changed: bool  # False: this very answer was recorded before, nothing happened now
    is_conflict: bool  # an acceptance after the search already succeeded: for staff to resolve
    placement_id: int | None  # the search's placement (new or existing), None if none
    withdrawn_item_ids: tuple[int, ...]  # other items of the search withdrawn by this acceptance
    inquiry_status: InquiryStatus
    reply_type: ReplyType  # derived from the inquiry's items, never stored
    cooldown_until: date | None  # the practice's cooldown after this answer


def parse_outcome(value: str | ItemOutcome) -> ItemOutcome:
    """Return the outcome for ``value`` or raise ValidationError listing the valid ones."""
    try:
        outcome = ItemOutcome(value)
    except ValueError:
        raise ValidationError(
            Message(
                "answer.outcome_invalid",
                "Outcome '{value}' is unknown; e.g. {example}",
                value=value,
                example=OUTCOME_EXAMPLE,
            ),
            field="outcome",
        ) from None
    if outcome == Out.PENDING:
        raise ValidationError(
            Message(
                "answer.pending_is_no_answer", "'pending' is not an answer; e.g. {example}", example=OUTCOME_EXAMPLE
            ),
            field="outcome",
        )
    return outcome


def parse_source(value: str | AnswerSource) -> AnswerSource:
    try:
        return AnswerSource(value)
    except ValueError:
        valid = words([term(f"answer.source.{s.value}", s.value) for s in AnswerSource])
        raise ValidationError(
            Message(
                "answer.source_invalid",
                "Answer source '{value}' is unknown; use one of {valid}",
                value=value,
                valid=valid,
            ),
            field="source",
        ) from None


def _lock_search(session: Session, search_id: int) -> Search:
    # Two acceptances for one search arrive in parallel (answer links): the row lock makes one of them first.
    return session.scalar(
        select(Search).where(Search.id == search_id).with_for_update().execution_options(populate_existing=True)
    )


def lock_item(session: Session, *, item_id: int) -> InquiryItem:
    """Row-lock the item's search, then the item, and return the item as committed by everyone before us.

    The lock order of every answer: search first, then items, then inquiries, as the withdrawal of other
    items does; two answers for one search then queue on the search instead of deadlocking on each other's
    items. A caller deciding on the item's current outcome (the answer page) locks first, then reads.
    """
    _lock_search(session, inquiries.get_item(session, item_id=item_id).search_id)
    return inquiries.get_item(session, item_id=item_id, for_update=True)


def _placement(session: Session, search_id: int) -> Placement | None:
    return session.scalar(select(Placement).where(Placement.search_id == search_id))


def _result(item: InquiryItem, inquiry: Inquiry, placement: Placement | None, *, changed: bool,
            withdrawn: tuple[int, ...] = (), cooldown: date | None) -> AnswerResult:  # fmt: skip
    return AnswerResult(
        item_id=item.id,
        outcome=item.outcome,
        changed=changed,
        is_conflict=item.is_conflict,
        placement_id=placement.id if placement else None,
        withdrawn_item_ids=withdrawn,
        inquiry_status=inquiry.status,
        reply_type=inquiry.reply_type,
        cooldown_until=cooldown,
    )


def _exclude(search: Search, therapist_id: int) -> None:
    if therapist_id not in (search.excluded_therapist_ids or []):
        search.excluded_therapist_ids = [*(search.excluded_therapist_ids or []), therapist_id]


def _accept_first(session: Session, item: InquiryItem, inquiry: Inquiry, search: Search, *, today: date,
                  actor: str, actor_id: int | None, now: datetime) -> tuple[Placement, tuple[int, ...]]:  # fmt: skip
    if search.status == SearchStatus.PAUSED:  # a practice may answer during a pause: the place is still wanted
        patients.move_search(
            session, search, SearchStatus.ACTIVE, actor=actor, actor_id=actor_id, reason="place offered"
        )
        search.paused_until = None
    patients.move_search(session, search, SearchStatus.SUCCESSFUL, actor=actor, actor_id=actor_id)
    search.ended_on = today
    patient = patients.get(session, patient_id=search.patient_id)
    patients.set_status(session, patient=patient, target=PatientStatus.IN_THERAPY, actor=actor, actor_id=actor_id,
                        reason=f"place offered in inquiry {inquiry.reference}")  # fmt: skip
    placement = Placement(search_id=search.id, therapist_id=inquiry.therapist_id, inquiry_item_id=item.id,
                          placed_on=today, first_session_on=item.proposed_first_session)  # fmt: skip
    session.add(placement)
    session.flush()
    audit.record(session, actor=actor, actor_id=actor_id, action="placement.created", entity_type="placement",
                 entity_id=placement.id, details={"search_id": search.id, "item_id": item.id})  # fmt: skip
    payload = {"search_id": search.id, "therapist_id": inquiry.therapist_id, "inquiry_id": inquiry.id}
    events.emit(session, "placement.created", aggregate_type="placement", aggregate_id=placement.id, payload=payload)
    others = session.scalars(
        select(InquiryItem)
        .where(InquiryItem.search_id == search.id, InquiryItem.id != item.id, InquiryItem.outcome == Out.PENDING)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for other in others:
        other.outcome = Out.WITHDRAWN
    if others:
        withdrawn_ids = [o.id for o in others]
        audit.record(session, actor=actor, actor_id=actor_id, action="inquiry_item.withdrawn", entity_type="search",
                     entity_id=search.id, reason="first acceptance wins",
                     details={"item_ids": withdrawn_ids, "accepted_item_id": item.id})  # fmt: skip
        session.flush()
        for other_inquiry in {o.inquiry for o in others}:
            inquiries.settle(session, other_inquiry, actor=actor, actor_id=actor_id, now=now)
    return placement, tuple(o.id for o in others)


def _no_show(session: Session, item: InquiryItem, inquiry: Inquiry, search: Search, *, label: str,
             actor: str, actor_id: int | None) -> None:  # fmt: skip
    placement = session.scalar(select(Placement).where(Placement.inquiry_item_id == item.id))
    if placement is None:
        raise ValidationError(
            Message(
                "answer.conflict_without_placement",
                "{item} is a conflicting acceptance without a placement; resolve the conflict instead",
                item=label,
            ),
            field="outcome",
        )
    patient = patients.get(session, patient_id=search.patient_id)
    if patient.status != PatientStatus.IN_THERAPY:
        raise ValidationError(
            Message(
                "answer.no_show_not_in_therapy",
                "{item}: patient is '{status}', not in_therapy; a no-show cannot be recorded now",
                item=label,
                status=status("patient", patient.status),
            ),
            field="outcome",
        )
    audit.record(session, actor=actor, actor_id=actor_id, action="placement.removed", entity_type="placement",
                 entity_id=placement.id, reason="no_show",
                 details={"search_id": search.id, "therapist_id": placement.therapist_id})  # fmt: skip
    events.emit(session, "placement.removed", aggregate_type="placement", aggregate_id=placement.id,
                payload={"search_id": search.id, "reason": "no_show"})  # fmt: skip
    session.delete(placement)
    _exclude(search, inquiry.therapist_id)
    patients.reopen_after_no_show(session, search=search, actor=actor, actor_id=actor_id)


def _start_cooldown(session: Session, inquiry: Inquiry, *, today: date, settings: Settings) -> date | None:
    if inquiry.practice_id is None:
        return None
    practice = session.get(Practice, inquiry.practice_id)
    until = today + timedelta(weeks=settings.match_cooldown_weeks)
    if practice.cooldown_until is None or practice.cooldown_until < until:
        practice.cooldown_until = until
    return practice.cooldown_until


def record_no_answers(session: Session, *, due: list[Inquiry], actor: str, now: datetime,
                      source: str | AnswerSource = "phone") -> list[int]:  # fmt: skip
    """``record_answer(outcome="no_answer")`` for every pending item of ``due`` at once; return the item ids.

    For the follow-up job's expiry: one UPDATE, bulk audit rows and events, then each inquiry settles (it
    expires, or is answered if the practice answered another item). The rows are those ``record_answer``
    writes item by item. The caller holds the locks of the inquiries and of their items' searches.
    """
    answer_source = parse_source(source)
    inquiry_ids = [inquiry.id for inquiry in due]
    pending = session.execute(
        select(InquiryItem.id, InquiryItem.inquiry_id, InquiryItem.search_id, InquiryItem.is_conflict)
        .where(InquiryItem.inquiry_id.in_(inquiry_ids), InquiryItem.outcome == Out.PENDING)
        .order_by(InquiryItem.id)
        .with_for_update()
    ).all()
    if not pending:
        return []
    transitions.check_outcome(Out.PENDING, Out.NO_ANSWER, label=f"{len(pending)} pending items")
    session.execute(
        update(InquiryItem)
        .where(InquiryItem.id.in_([row.id for row in pending]))
        .values(outcome=Out.NO_ANSWER, answered_at=now, answer_source=answer_source, answer_message=None)
    )
    therapist = {inquiry.id: inquiry.therapist_id for inquiry in due}
    audit.record_all(session, actor=actor, action="inquiry_item.answered", entity_type="inquiry_item", rows=[
        (row.id, {"from": Out.PENDING.value, "to": Out.NO_ANSWER.value, "source": answer_source.value,
                  "inquiry_id": row.inquiry_id, "is_conflict": row.is_conflict, "message": False})
        for row in pending
    ])  # fmt: skip
    events.emit_all(session, "inquiry_item.answered", aggregate_type="inquiry", events=[
        (row.inquiry_id, {"item_id": row.id, "search_id": row.search_id, "therapist_id": therapist[row.inquiry_id],
                          "outcome": Out.NO_ANSWER.value, "is_conflict": row.is_conflict})
        for row in pending
    ])  # fmt: skip
    outcomes: dict[int, list[ItemOutcome]] = {}
    for inquiry_id, outcome in session.execute(
        select(InquiryItem.inquiry_id, InquiryItem.outcome).where(InquiryItem.inquiry_id.in_(inquiry_ids))
    ):
        outcomes.setdefault(inquiry_id, []).append(outcome)
    closing: dict[InquiryStatus, list[Inquiry]] = {}
    for inquiry in due:
        if inquiry.status in transitions.OPEN_STATUSES:
            target = transitions.closing_status(outcomes.get(inquiry.id, []))
            if target is not None:
                closing.setdefault(target, []).append(inquiry)
        elif inquiry.status in (InquiryStatus.PROPOSED, InquiryStatus.APPROVED):  # not on the job's path
            inquiries.settle(session, inquiry, actor=actor, now=now)
    for target, group in closing.items():
        values = {"closed_at": now} if target == InquiryStatus.EXPIRED else {}
        inquiries.move_all(session, [(inquiry, {}) for inquiry in group], target, actor=actor, values=values)
    return [row.id for row in pending]


def record_answer(
    session: Session,
    *,
    item_id: int,
    outcome: str | ItemOutcome,
    actor: str,
    now: datetime,
    source: str | AnswerSource = "staff",
    message: str | None = None,
    proposed_first_session: date | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> AnswerResult:
    """Record one item's outcome with every consequence of DESIGN 3.2 (see the module docstring)."""
    settings = settings or get_settings()
    target, answer_source = parse_outcome(outcome), parse_source(source)
    item = lock_item(session, item_id=item_id)
    search = session.get(Search, item.search_id)
    inquiry = inquiries.get(session, inquiry_id=item.inquiry_id, for_update=True)
    label = inquiries.item_label(session, item)
    practice = session.get(Practice, inquiry.practice_id) if inquiry.practice_id else None
    if inquiry.status in (InquiryStatus.PROPOSED, InquiryStatus.DISCARDED):
        raise IllegalTransition(
            Message(
                "answer.never_sent",
                "Inquiry {inquiry} is '{status}': it was never sent, so it has no answers; approve it first",
                inquiry=inquiry.reference,
                status=status("inquiry", inquiry.status),
            )
        )
    if item.outcome == target:  # the same answer again (a second click on the answer link)
        return _result(item, inquiry, _placement(session, search.id), changed=False,
                       cooldown=practice.cooldown_until if practice else None)  # fmt: skip
    if item.outcome == Out.WITHDRAWN and target != Out.ACCEPTED:
        raise IllegalTransition(
            Message(
                "answer.withdrawn",
                "{item} was withdrawn: the patient was placed through another inquiry meanwhile, so this "
                "'{outcome}' needs no recording; leave it out (an offer would be recorded as a conflict)",
                item=label,
                outcome=term(f"outcome.{target.value}", target.value),
            )
        )
    transitions.check_outcome(item.outcome, target, label=label)
    today = local_today(now, settings)
    previous = item.outcome
    placement, withdrawn = None, ()
    if target == Out.ACCEPTED:
        item.proposed_first_session = proposed_first_session
        # withdrawn by an earlier acceptance (or the search ended otherwise): this one comes too late
        ended = search.status not in (SearchStatus.ACTIVE, SearchStatus.PAUSED)
        if ended or _placement(session, search.id) is not None:
            item.is_conflict = True
        item.outcome = target
        if not item.is_conflict:
            placement, withdrawn = _accept_first(session, item, inquiry, search, today=today, actor=actor,
                                                 actor_id=actor_id, now=now)  # fmt: skip
    elif target == Out.NO_SHOW:
        _no_show(session, item, inquiry, search, label=label, actor=actor, actor_id=actor_id)
        item.outcome = target
    elif target == Out.IN_SESSIONS:
        placement = session.scalar(select(Placement).where(Placement.inquiry_item_id == item.id))
        if placement is None:
            raise ValidationError(
                Message(
                    "answer.conflict_without_placement",
                    "{item} is a conflicting acceptance without a placement; resolve the conflict instead",
                    item=label,
                ),
                field="outcome",
            )
        placement.first_session_confirmed_at = now
        placement.first_session_on = proposed_first_session or placement.first_session_on
        item.outcome = target
        events.emit(session, "placement.confirmed", aggregate_type="placement", aggregate_id=placement.id,
                    payload={"search_id": search.id})  # fmt: skip
    else:
        item.outcome = target
        if target == Out.DECLINED_UNSUITABLE:
            _exclude(search, inquiry.therapist_id)
    if target not in (Out.NO_SHOW, Out.IN_SESSIONS):  # later updates keep the time of the original answer
        item.answered_at, item.answer_source = now, answer_source
        item.answer_message = (message or "").strip() or None
    if target in (Out.ACCEPTED, Out.DECLINED_CAPACITY):  # the practice told us whether it has a place: fresh data
        therapist = session.get(Therapist, inquiry.therapist_id)
        therapist.accepting_patients = target == Out.ACCEPTED
        therapist.accepting_confirmed_on = therapist.last_verified_on = today
    cooldown = practice.cooldown_until if practice else None
    if target in transitions.PRACTICE_ANSWERS:
        cooldown = _start_cooldown(session, inquiry, today=today, settings=settings)
        inquiry.answered_at = inquiry.answered_at or now
    details = {"from": previous.value, "to": target.value, "source": answer_source.value, "inquiry_id": inquiry.id,
               "is_conflict": item.is_conflict, "message": item.answer_message is not None}  # fmt: skip
    audit.record(session, actor=actor, actor_id=actor_id, action="inquiry_item.answered", entity_type="inquiry_item",
                 entity_id=item.id, details=details)  # fmt: skip
    events.emit(session, "inquiry_item.answered", aggregate_type="inquiry", aggregate_id=inquiry.id,
                payload={"item_id": item.id, "search_id": search.id, "therapist_id": inquiry.therapist_id,
                         "outcome": target.value, "is_conflict": item.is_conflict})  # fmt: skip
    if item.is_conflict and target == Out.ACCEPTED:
        events.emit(session, "placement.conflict", aggregate_type="search", aggregate_id=search.id,
                    payload={"item_id": item.id, "therapist_id": inquiry.therapist_id})  # fmt: skip
    session.flush()
    inquiries.settle(session, inquiry, actor=actor, actor_id=actor_id, now=now)
    return _result(item, inquiry, placement or _placement(session, search.id), changed=True, withdrawn=withdrawn,
                   cooldown=cooldown)  # fmt: skip
