"""Pure state machines of inquiries and inquiry items (DESIGN 3.1): one table each, no session, no clock.

Example:
    check_inquiry(InquiryStatus.PROPOSED, InquiryStatus.APPROVED, label="A-2026-000123")   # fine
    check_outcome(ItemOutcome.ACCEPTED, ItemOutcome.PENDING, label="item 7")               # IllegalTransition
"""

from __future__ import annotations

from core.errors import IllegalTransition
from core.matching.models import InquiryStatus, ItemOutcome
from core.messages import Message, status, term, words

S, Out = InquiryStatus, ItemOutcome

# DESIGN 3.1: proposed -> approved -> queued -> sent -> reminded -> call_scheduled -> answered | expired, and
# proposed|approved -> discarded. Beyond the straight line: a practice may answer by phone before the mail
# went out (approved/queued -> answered), a practice without e-mail is called instead (approved ->
# call_scheduled), and an inquiry whose patients were all placed elsewhere closes without answer (-> expired).
INQUIRY_TRANSITIONS: dict[InquiryStatus, frozenset[InquiryStatus]] = {
    S.PROPOSED: frozenset({S.APPROVED, S.DISCARDED}),
    S.APPROVED: frozenset({S.QUEUED, S.CALL_SCHEDULED, S.ANSWERED, S.EXPIRED, S.DISCARDED}),
    S.QUEUED: frozenset({S.SENT, S.ANSWERED, S.EXPIRED}),
    S.SENT: frozenset({S.REMINDED, S.CALL_SCHEDULED, S.ANSWERED, S.EXPIRED}),
    S.REMINDED: frozenset({S.CALL_SCHEDULED, S.ANSWERED, S.EXPIRED}),
    S.CALL_SCHEDULED: frozenset({S.ANSWERED, S.EXPIRED}),
    S.ANSWERED: frozenset(),
    S.EXPIRED: frozenset(),
    S.DISCARDED: frozenset(),
}

# DESIGN 3.1 item outcomes. A withdrawn item may still be accepted by a practice that missed the withdrawal:
# that late acceptance is recorded (as accepted with is_conflict) for staff to resolve, never as a placement.
OUTCOME_TRANSITIONS: dict[ItemOutcome, frozenset[ItemOutcome]] = {
    Out.PENDING: frozenset(
        {Out.ACCEPTED, Out.DECLINED_CAPACITY, Out.DECLINED_UNSUITABLE, Out.DECLINED_OTHER, Out.NO_ANSWER, Out.WITHDRAWN}
    ),
    Out.ACCEPTED: frozenset({Out.NO_SHOW, Out.IN_SESSIONS}),
    Out.WITHDRAWN: frozenset({Out.ACCEPTED}),
    Out.DECLINED_CAPACITY: frozenset(),
    Out.DECLINED_UNSUITABLE: frozenset(),
    Out.DECLINED_OTHER: frozenset(),
    Out.NO_ANSWER: frozenset(),
    Out.NO_SHOW: frozenset(),
    Out.IN_SESSIONS: frozenset(),
}

OPEN_STATUSES = frozenset({S.APPROVED, S.QUEUED, S.SENT, S.REMINDED, S.CALL_SCHEDULED})
# Outcomes that are a practice's own answer: they start the practice's cooldown (DESIGN 3.2)
PRACTICE_ANSWERS = frozenset({Out.ACCEPTED, Out.DECLINED_CAPACITY, Out.DECLINED_UNSUITABLE, Out.DECLINED_OTHER})


def _allowed(options: frozenset, kind: str) -> Message:
    if not options:
        return term("list.final_state", "none (final state)")
    return words([_state(kind, s) for s in sorted(options, key=lambda s: s.value)])


def _state(kind: str, value: InquiryStatus | ItemOutcome) -> Message:
    return status("inquiry", value) if kind == "inquiry" else term(f"outcome.{value.value}", value.value)


def check_inquiry(current: InquiryStatus, target: InquiryStatus, *, label: str) -> None:
    """Raise IllegalTransition naming the allowed targets unless inquiry ``current -> target`` is allowed."""
    allowed = INQUIRY_TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(
            Message(
                "transition.inquiry",
                "Inquiry {inquiry} in state '{current}' cannot become '{target}'; allowed: {allowed}",
                inquiry=label,
                current=_state("inquiry", current),
                target=_state("inquiry", target),
                allowed=_allowed(allowed, "inquiry"),
            )
        )


def check_outcome(current: ItemOutcome, target: ItemOutcome, *, label: str) -> None:
    """Raise IllegalTransition naming the allowed outcomes unless ``current -> target`` is allowed."""
    allowed = OUTCOME_TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(
            Message(
                "transition.outcome",
                "{item} has the outcome '{current}'; it cannot become '{target}' (allowed from here: {allowed})",
                item=label,
                current=_state("outcome", current),
                target=_state("outcome", target),
                allowed=_allowed(allowed, "outcome"),
            )
        )


def closing_status(outcomes: list[ItemOutcome]) -> InquiryStatus | None:
    """Return the state an open inquiry closes in once no item is pending, else None.

    'answered' if the practice answered at least one item, 'expired' if every item ended without an answer
    (no answer, or withdrawn because the patient was placed elsewhere).
    Example: ``closing_status([ACCEPTED, WITHDRAWN])`` -> ANSWERED
    """
    if not outcomes or Out.PENDING in outcomes:
        return None
    answered = PRACTICE_ANSWERS | {Out.NO_SHOW, Out.IN_SESSIONS}
    return S.ANSWERED if any(o in answered for o in outcomes) else S.EXPIRED
