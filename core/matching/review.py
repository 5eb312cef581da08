"""Staff review of proposals: approve (one or many), discard; and the sending steps queued -> sent.

Approval re-checks the contact limits (``core.matching.limits``): a violation raises ContactLimitExceeded
unless an override reason is given, which is stored on the inquiry and audited. Example:

    approve(session, inquiry_id=4, actor="anna@example.org", now=now)
    approve(session, inquiry_id=5, actor="anna@example.org", now=now, override_reason="therapist asked for more")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import ConcurrentEdit, ValidationError, WorkbenchError
from core.matching import inquiries, limits, transitions
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.messages import Message, status
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.models import Practice, Therapist, TherapistStatus


@dataclass(frozen=True)
class ApprovalReport:
    """The outcome of approving one inquiry in a bulk approval."""

    inquiry_id: int
    reference: str | None
    approved: bool
    message: str  # "approved", or the error that kept it back (a core.messages.Message: say it)
    violated_rules: tuple[str, ...] = ()  # contact limits broken (overridden when approved)


def ensure_sendable(session: Session, inquiry: Inquiry, items: list[InquiryItem]) -> None:
    """Raise ValidationError unless the therapist is active and every pending item's search is still active."""
    therapist = session.get(Therapist, inquiry.therapist_id)
    if therapist.status != TherapistStatus.ACTIVE:
        raise ValidationError(
            Message(
                "review.therapist_not_active",
                "Inquiry {inquiry}: the therapist is {status} ({reason}); swap the therapist or discard the inquiry",
                inquiry=inquiry.reference,
                status=status("therapists", therapist.status),
                reason=therapist.status_reason or "—",
            ),
            field="therapist_id",
        )
    rows = session.execute(
        select(Search.id, Search.status, Search.excluded_therapist_ids, Patient.reference,
               Patient.excluded_therapist_ids)
        .join(Patient, Patient.id == Search.patient_id)
        .where(Search.id.in_([item.search_id for item in items]))
    )  # fmt: skip
    for _search_id, search_status, excluded, reference, patient_excluded in rows:
        if search_status != SearchStatus.ACTIVE:
            raise ValidationError(
                Message(
                    "review.search_not_active",
                    "Inquiry {inquiry}: the search of patient {patient} is {status}; "
                    "remove the patient from the inquiry first",
                    inquiry=inquiry.reference,
                    patient=reference,
                    status=status("search", search_status),
                ),
                field="items",
            )
        if inquiry.therapist_id in (excluded or []) or inquiry.therapist_id in (patient_excluded or []):
            raise ValidationError(
                Message(
                    "review.patient_excludes",
                    "Inquiry {inquiry}: patient {patient} excludes this therapist; "
                    "remove the patient from the inquiry or swap the therapist",
                    inquiry=inquiry.reference,
                    patient=reference,
                ),
                field="items",
            )


def approve(
    session: Session,
    *,
    inquiry_id: int,
    actor: str,
    now: datetime,
    override_reason: str | None = None,
    version: int | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> Inquiry:
    """Approve a proposal for sending (proposed -> approved) after re-checking the contact limits.

    Raises ContactLimitExceeded (naming each broken limit) unless ``override_reason`` is given; an override
    reason given earlier when swapping the therapist counts too. ``version`` (as shown to staff) guards
    against approving a proposal someone changed meanwhile.
    """
    return _approve(session, inquiry_id=inquiry_id, actor=actor, now=now, override_reason=override_reason,
                    version=version, actor_id=actor_id, settings=settings or get_settings())[0]  # fmt: skip


def _approve(
    session: Session,
    *,
    inquiry_id: int,
    actor: str,
    now: datetime,
    override_reason: str | None,
    version: int | None,
    actor_id: int | None,
    settings: Settings,
) -> tuple[Inquiry, list[limits.Violation]]:
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    if version is not None and inquiry.version != version:
        raise ConcurrentEdit(
            Message(
                "review.changed_meanwhile",
                "Inquiry {inquiry} was changed by someone else while you reviewed it "
                "(version {version} -> {current}); reload it and review it again",
                inquiry=inquiry.reference,
                version=version,
                current=inquiry.version,
            )
        )
    transitions.check_inquiry(inquiry.status, InquiryStatus.APPROVED, label=inquiry.reference)
    pending = [item for item in inquiry.items if item.outcome == ItemOutcome.PENDING]
    if not pending:
        raise ValidationError(
            Message(
                "review.no_patient_left",
                "Inquiry {inquiry} has no patient left to ask; discard it instead",
                inquiry=inquiry.reference,
            ),
            field="items",
        )
    ensure_sendable(session, inquiry, pending)
    violations = limits.check(
        session,
        therapist_id=inquiry.therapist_id,
        practice_id=inquiry.practice_id,
        search_ids=[item.search_id for item in pending],
        exclude_inquiry_id=inquiry.id,
        today=limits.local_today(now, settings),
        now=now,
        settings=settings,
    )
    reason = (override_reason or "").strip() or (inquiry.override_reason or "").strip()
    if violations and not reason:
        raise limits.ContactLimitExceeded(inquiry.reference, violations)
    inquiries.move(session, inquiry, InquiryStatus.APPROVED, actor=actor, actor_id=actor_id,
                   details={"items": len(pending)})  # fmt: skip
    inquiry.approved_at, inquiry.approved_by_id = now, actor_id
    if violations:
        inquiry.override_reason = reason
        audit.record(
            session,
            actor=actor,
            actor_id=actor_id,
            action="inquiry.contact_limit_override",
            entity_type="inquiry",
            entity_id=inquiry.id,
            reason=reason,
            details={"rules": [v.rule for v in violations], "step": "approve"},
        )
    return inquiry, violations


def approve_many(
    session: Session,
    *,
    inquiry_ids: Iterable[int],
    actor: str,
    now: datetime,
    override_reason: str | None = None,
    actor_id: int | None = None,
    settings: Settings | None = None,
) -> list[ApprovalReport]:
    """Approve several proposals in the caller's transaction; one report per inquiry, failures left as they were.

    Each approval runs in its own savepoint, so one refused inquiry (a contact limit, a placed patient)
    does not stop the others. Approving two proposals of one practice approves the first only.
    """
    settings = settings or get_settings()
    reports = []
    for inquiry_id in dict.fromkeys(inquiry_ids):  # keeps the order, drops repeats
        reference = session.scalar(select(Inquiry.reference).where(Inquiry.id == inquiry_id))
        try:
            with session.begin_nested():
                _inquiry, violations = _approve(session, inquiry_id=inquiry_id, actor=actor, now=now,
                                                override_reason=override_reason, version=None, actor_id=actor_id,
                                                settings=settings)  # fmt: skip
            rules = tuple(v.rule for v in violations)
            reports.append(ApprovalReport(inquiry_id, reference, True, "approved", rules))
        except limits.ContactLimitExceeded as exc:
            rules = tuple(v.rule for v in exc.violations)
            reports.append(ApprovalReport(inquiry_id, reference, False, exc.message, rules))
        except WorkbenchError as exc:
            reports.append(ApprovalReport(inquiry_id, reference, False, exc.message))
    return reports


def discard(
    session: Session, *, inquiry_id: int, actor: str, reason: str, now: datetime, actor_id: int | None = None
) -> Inquiry:
    """Discard a proposal or an approved inquiry that was not sent (its pending items become withdrawn)."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(
            Message(
                "review.discard_reason", "A reason is required to discard an inquiry, e.g. 'therapist is retiring'"
            ),
            field="reason",
        )
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    withdrawn = [item for item in inquiry.items if item.outcome == ItemOutcome.PENDING]
    inquiries.move(session, inquiry, InquiryStatus.DISCARDED, actor=actor, actor_id=actor_id, reason=text,
                   details={"withdrawn_items": len(withdrawn)})  # fmt: skip
    for item in withdrawn:
        item.outcome = ItemOutcome.WITHDRAWN  # never sent: nothing to wait for
    inquiry.closed_at = now
    return inquiry


def mark_queued(
    session: Session, *, inquiry_id: int, actor: str, now: datetime, actor_id: int | None = None
) -> Inquiry:
    """Record that the inquiry's message waits in the outbox (approved -> queued)."""
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    inquiries.move(session, inquiry, InquiryStatus.QUEUED, actor=actor, actor_id=actor_id)
    return inquiry


def mark_sent(session: Session, *, inquiry_id: int, actor: str, now: datetime, actor_id: int | None = None) -> Inquiry:
    """Record that the inquiry went out (queued -> sent): sets sent_at and the practice's last contact."""
    inquiry = inquiries.get(session, inquiry_id=inquiry_id, for_update=True)
    inquiries.move(session, inquiry, InquiryStatus.SENT, actor=actor, actor_id=actor_id)
    inquiry.sent_at = now
    if inquiry.practice_id is not None:
        practice = session.get(Practice, inquiry.practice_id)
        practice.last_contacted_at = max(filter(None, [practice.last_contacted_at, now]))
    return inquiry
