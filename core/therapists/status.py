"""The therapist's status machine (DESIGN 3): active, blocked (with reason, optional until-date), inactive.

    active  --block-->      blocked   --unblock-->    active
    active  --deactivate--> inactive  --reactivate--> active
    blocked --deactivate--> inactive

Example: ``next_status("inactive", "block")`` raises IllegalTransition
"Therapist status 'inactive' does not allow 'block'; allowed: reactivate (-> active)".
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from core.errors import IllegalTransition, ValidationError
from core.messages import Message, term, words
from core.messages import status as state
from core.therapists.models import TherapistStatus


class StatusAction(enum.StrEnum):
    BLOCK = "block"
    UNBLOCK = "unblock"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"


TRANSITIONS: dict[tuple[TherapistStatus, StatusAction], TherapistStatus] = {
    (TherapistStatus.ACTIVE, StatusAction.BLOCK): TherapistStatus.BLOCKED,
    (TherapistStatus.ACTIVE, StatusAction.DEACTIVATE): TherapistStatus.INACTIVE,
    (TherapistStatus.BLOCKED, StatusAction.UNBLOCK): TherapistStatus.ACTIVE,
    (TherapistStatus.BLOCKED, StatusAction.DEACTIVATE): TherapistStatus.INACTIVE,
    (TherapistStatus.INACTIVE, StatusAction.REACTIVATE): TherapistStatus.ACTIVE,
}
REASON_EXAMPLES = {
    StatusAction.BLOCK: "Bittet um eine Pause bei Anfragen",
    StatusAction.UNBLOCK: "Wieder erreichbar",
    StatusAction.DEACTIVATE: "Praxis geschlossen",
    StatusAction.REACTIVATE: "Praxis wieder geöffnet",
}


def allowed_actions(current: TherapistStatus | str) -> list[StatusAction]:
    """Return the actions the status ``current`` allows, in a stable order."""
    status = TherapistStatus(current)
    return [action for (source, action) in TRANSITIONS if source == status]


def next_status(current: TherapistStatus | str, action: StatusAction | str) -> TherapistStatus:
    """Return the status after ``action`` or raise IllegalTransition naming the allowed actions."""
    status, wanted = TherapistStatus(current), StatusAction(action)
    target = TRANSITIONS.get((status, wanted))
    if target is None:
        allowed = words([
            Message("therapist.action_to", "{action} (-> {target})", action=_action(a),
                    target=state("therapists", TRANSITIONS[(status, a)]))
            for a in allowed_actions(status)
        ])  # fmt: skip
        raise IllegalTransition(
            Message(
                "therapist.status_transition",
                "Therapist status '{status}' does not allow '{action}'; allowed: {allowed}",
                status=state("therapists", status),
                action=_action(wanted),
                allowed=allowed,
            )
        )
    return target


def _action(action: StatusAction) -> Message:
    return term(f"therapists.action.{action.value}", action.value)


def check_reason(action: StatusAction | str, reason: str | None) -> str:
    """Return the trimmed reason; every status change needs one, for the audit trail and for colleagues."""
    text = " ".join((reason or "").split())
    if not text:
        action = StatusAction(action)
        raise ValidationError(
            Message(
                "therapist.reason_required",
                "A reason is required to {action} a therapist, e.g. '{example}'",
                action=_action(action),
                example=REASON_EXAMPLES[action],
            ),
            field="reason",
        )
    if len(text) > 500:
        raise ValidationError(
            Message(
                "therapist.reason_too_long",
                "The reason has {length} characters; at most {max_length} fit",
                length=len(text),
                max_length=500,
            ),
            field="reason",
        )
    return text


def check_block_until(until: date | None, *, today: date) -> date | None:
    """Return a block's end date if it lies after ``today`` (None = blocked until unblocked by staff)."""
    if until is not None and until <= today:
        raise ValidationError(
            Message(
                "therapist.block_until_past",
                "Blocked until {until:%d.%m.%Y} is not in the future; choose a later date, e.g. {example:%d.%m.%Y}, "
                "or leave it empty",
                until=until,
                example=today + timedelta(days=28),
            ),
            field="status_until",
        )
    return until


def is_due_for_unblock(status: TherapistStatus | str, until: date | None, *, today: date) -> bool:
    """Return whether a block has run out: blocked with an until-date on or before ``today``."""
    return TherapistStatus(status) == TherapistStatus.BLOCKED and until is not None and until <= today
