"""Contact limits (DESIGN 3.2), re-checked whenever staff approve, swap or resolve: a pure rule and its loader.

At most one open inquiry per practice; no contact while the practice cools down after an answer; at most
MATCH_MONTHLY_CAP inquiries per practice in 30 days; at most ``max_parallel_inquiries`` open inquiries per
search. Staff may override with a reason (stored on the inquiry and audited). Example:

    violations = check(session, inquiry=inquiry, today=today, now=now, settings=settings)
    [v.rule for v in violations]   # ["cooldown"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.config import Settings
from core.errors import ValidationError
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.transitions import OPEN_STATUSES
from core.messages import Message, words
from core.patients.models import Patient, Search
from core.therapists.models import Practice

MONTH = timedelta(days=30)  # MATCH_MONTHLY_CAP counts inquiries in a sliding 30-day window
OVERRIDE_EXAMPLE = "the therapist asked us by phone to send more patients"


@dataclass(frozen=True)
class Violation:
    rule: str  # open_inquiry, cooldown, monthly_cap, parallel_per_search
    message: str


class ContactLimitExceeded(ValidationError):
    """Approving would break a contact limit; ``violations`` lists each one. Retry with an override reason."""

    def __init__(self, label: str, violations: list[Violation]) -> None:
        super().__init__(
            Message("limits.exceeded",
                    "Inquiry {inquiry} breaks the contact limits: {violations}. "
                    "To send it anyway give an override reason, e.g. '" + OVERRIDE_EXAMPLE + "'",
                    inquiry=label, violations=words([v.message for v in violations])),
            field="override_reason",
        )  # fmt: skip
        self.violations = violations


def local_today(now: datetime, settings: Settings) -> date:
    """Return the calendar day of ``now`` where the placement service works (TIMEZONE, e.g. Europe/Berlin)."""
    return now.astimezone(ZoneInfo(settings.timezone)).date() if now.tzinfo else now.date()


def practice_rules(
    *,
    open_references: list[str],
    cooldown_until: date | None,
    recent_count: int,
    monthly_cap: int,
    today: date,
) -> list[Violation]:
    """Return the practice-level violations (pure). ``recent_count`` = other inquiries in the last 30 days."""
    found = []
    if open_references:
        message = Message(
            "limits.open_inquiry", "the practice already has the open inquiry {inquiry}", inquiry=open_references[0]
        )
        found.append(Violation("open_inquiry", message))
    if cooldown_until is not None and cooldown_until > today:
        found.append(Violation("cooldown", Message("limits.cooldown", "the practice cools down until {until:%d.%m.%Y}",
                                                   until=cooldown_until)))  # fmt: skip
    if recent_count >= monthly_cap:
        found.append(
            Violation(
                "monthly_cap",
                Message(
                    "limits.monthly_cap",
                    "the practice had {count} inquiries in 30 days (limit {limit})",
                    count=recent_count,
                    limit=monthly_cap,
                ),
            )
        )
    return found


def search_rule(*, reference: str, open_count: int, limit: int) -> Violation | None:
    """Return a violation if a search already has ``limit`` open inquiries (pure)."""
    if open_count >= limit:
        return Violation(
            "parallel_per_search",
            Message(
                "limits.parallel_per_search",
                "patient {patient} already waits for {count} inquiries (limit {limit})",
                patient=reference,
                count=open_count,
                limit=limit,
            ),
        )
    return None


def _same_sender(therapist_id: int, practice_id: int | None):
    """Inquiries of the same practice, or of the same therapist when there is no practice."""
    if practice_id is None:
        return (Inquiry.practice_id.is_(None)) & (Inquiry.therapist_id == therapist_id)
    return Inquiry.practice_id == practice_id


def check(
    session: Session,
    *,
    therapist_id: int,
    practice_id: int | None,
    search_ids: Iterable[int],
    exclude_inquiry_id: int | None,
    today: date,
    now: datetime,
    settings: Settings,
) -> list[Violation]:
    """Return every contact limit that sending an inquiry (therapist, searches) now would break."""
    others = [Inquiry.id != exclude_inquiry_id] if exclude_inquiry_id is not None else []
    sender = _same_sender(therapist_id, practice_id)
    open_references = list(
        session.scalars(
            select(Inquiry.reference).where(sender, Inquiry.status.in_(OPEN_STATUSES), *others).order_by(Inquiry.id)
        )
    )
    recent_count = session.scalar(
        select(func.count())
        .select_from(Inquiry)
        .where(
            sender,
            Inquiry.status.not_in([InquiryStatus.PROPOSED, InquiryStatus.DISCARDED]),
            or_(Inquiry.sent_at >= now - MONTH, Inquiry.approved_at >= now - MONTH),
            *others,
        )
    )
    cooldown_until = session.scalar(select(Practice.cooldown_until).where(Practice.id == practice_id))
    found = practice_rules(
        open_references=open_references,
        cooldown_until=cooldown_until,
        recent_count=recent_count or 0,
        monthly_cap=settings.match_monthly_cap,
        today=today,
    )
    ids = list(search_ids)
    if ids:
        open_counts = dict(
            session.execute(
                select(InquiryItem.search_id, func.count())
                .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
                .where(
                    InquiryItem.search_id.in_(ids),
                    InquiryItem.outcome == ItemOutcome.PENDING,
                    Inquiry.status.in_(OPEN_STATUSES),
                    *others,
                )
                .group_by(InquiryItem.search_id)
            ).all()
        )
        rows = session.execute(
            select(Search.id, Search.max_parallel_inquiries, Patient.reference)
            .join(Patient, Patient.id == Search.patient_id)
            .where(Search.id.in_(ids))
            .order_by(Search.id)
        )
        for search_id, limit, reference in rows:
            violation = search_rule(reference=reference, open_count=open_counts.get(search_id, 0), limit=limit)
            if violation is not None:
                found.append(violation)
    return found
