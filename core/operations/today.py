"""The "Heute" work queue: what needs a person now, as counts with the few rows behind them.

One function per tile, each a read-only query; ``work_queue`` gathers them for the landing page. Times are
instants (``now``, aware); days are the service's local days (``core.clock``). Example:

    queue = work_queue(session, now=clock.now())
    queue.proposals, queue.calls_due.count, [b.reference for b in queue.blocked_searches]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from core import clock
from core.communication import calls
from core.communication.models import CallStatus, Email, EmailStatus, PhoneCall
from core.config import get_settings
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients import rules, tasks
from core.patients.models import Consent, ConsentKind, Patient, PatientStatus, SettingWish
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist, TherapistStatus

BLOCK_ENDING_DAYS = 7  # a week's notice: staff can check a practice's data before matching uses it again
SENT_STATUSES = (InquiryStatus.SENT, InquiryStatus.REMINDED, InquiryStatus.CALL_SCHEDULED)


@dataclass(frozen=True)
class CallsDue:
    count: int  # scheduled calls of today (local) and overdue ones from earlier days
    open_now: int  # of those, due by now and the practice's phone hours are open at this moment


@dataclass(frozen=True)
class BlockedSearch:
    patient_id: int
    reference: str
    codes: tuple[str, ...]  # rules.Requirement codes: consent_health, consent_share, insurance, ...


@dataclass(frozen=True)
class BlockEnding:
    therapist_id: int
    name: str
    until: date


@dataclass(frozen=True)
class TasksDue:
    count: int  # open follow-up tasks due today (local) or earlier
    overdue: int  # of those, due before today
    rows: list[tasks.TaskRow] = field(default_factory=list)  # overdue first, then today's


@dataclass(frozen=True)
class WorkQueue:
    proposals: int
    calls_due: CallsDue
    answers_to_record: int  # sent inquiries still waiting for at least one answer
    conflicts: int
    bounced_mail: int
    mail_in_doubt: int
    mail_replies: int = 0  # replies by mail not yet handled (fetch_mail files them on the inquiry's thread)
    blocked_searches: list[BlockedSearch] = field(default_factory=list)
    blocks_ending: list[BlockEnding] = field(default_factory=list)
    tasks_due: TasksDue = field(default_factory=lambda: TasksDue(0, 0))

    @property
    def nothing_to_do(self) -> bool:
        return not any(
            (self.proposals, self.calls_due.count, self.answers_to_record, self.conflicts, self.bounced_mail,
             self.mail_in_doubt, self.blocked_searches, self.blocks_ending, self.tasks_due.count)
        )  # fmt: skip


def proposals_to_review(session: Session) -> int:
    """How many proposed inquiries wait for review."""
    return session.scalar(select(func.count()).where(Inquiry.status == InquiryStatus.PROPOSED)) or 0


def _phone_hours_open(hours: dict, *, now: datetime, tz: str) -> bool:
    """Whether ``now`` lies inside one of the 5-minute call slots of ``hours`` (a working day, inside the hours)."""
    step = timedelta(minutes=calls.SLOT_MINUTES)
    first = next(calls.iter_slots(hours, after=now - step, tz=tz, horizon_days=0), None)
    return first is not None and first <= now < first + step


def calls_due(session: Session, *, now: datetime) -> CallsDue:
    """The scheduled calls of today and earlier, and how many of them can be made now (phone hours open)."""
    tz = get_settings().timezone
    end_of_today = datetime.combine(clock.local_date(now) + timedelta(days=1), time(0, 0), clock.zone())
    rows = session.execute(
        select(PhoneCall.scheduled_for, Therapist, Practice)
        .join(Therapist, Therapist.id == PhoneCall.therapist_id)
        .outerjoin(Practice, Practice.id == Therapist.practice_id)
        .where(PhoneCall.status == CallStatus.SCHEDULED, PhoneCall.scheduled_for < end_of_today)
    ).all()
    open_now = sum(
        1
        for scheduled_for, therapist, practice in rows
        if scheduled_for <= now and _phone_hours_open(calls.hours_for(therapist, practice), now=now, tz=tz)
    )
    return CallsDue(count=len(rows), open_now=open_now)


def answers_to_record(session: Session) -> int:
    """How many sent inquiries still wait for an answer about at least one patient."""
    pending = exists().where(InquiryItem.inquiry_id == Inquiry.id, InquiryItem.outcome == ItemOutcome.PENDING)
    return session.scalar(select(func.count()).where(Inquiry.status.in_(SENT_STATUSES), pending)) or 0


def open_conflicts(session: Session) -> int:
    """How many late acceptances wait for staff to offer another patient or close them."""
    return (
        session.scalar(
            select(func.count()).where(InquiryItem.is_conflict.is_(True), InquiryItem.conflict_resolved_at.is_(None))
        )
        or 0
    )


def bounced_mail_filter():
    """The condition for a mail that did not reach its recipient.

    A mail the sender gave up on ('dead': refused permanently or retries exhausted); bounce reports fetched
    by ``jobs.fetch_mail`` are added in ``bounced_mail``.
    """
    return Email.status == EmailStatus.DEAD


def bounced_mail(session: Session) -> int:
    """How many mails did not reach their recipient: given up by the sender, or bounced and not yet handled."""
    from core.communication.inbound_store import open_inbound_counts

    dead = session.scalar(select(func.count()).where(bounced_mail_filter())) or 0
    return dead + open_inbound_counts(session)["bounces"]


def open_replies(session: Session) -> int:
    """How many replies by mail wait for staff (shown with the answers to record)."""
    from core.communication.inbound_store import open_inbound_counts

    return open_inbound_counts(session)["replies"]


def mail_in_doubt(session: Session) -> int:
    """How many mails may or may not have been accepted by the mail server (settled on the Mailbox page)."""
    return session.scalar(select(func.count()).where(Email.needs_review.is_(True))) or 0


def blocked_searches(session: Session, *, today: date) -> list[BlockedSearch]:
    """New patients whose search cannot start yet, each with the codes of every unmet requirement."""
    patients = session.scalars(
        select(Patient)
        .where(Patient.status == PatientStatus.NEW, Patient.erased_at.is_(None))
        .order_by(Patient.created_at, Patient.id)
    ).all()
    if not patients:
        return []
    granted: dict[int, set[ConsentKind]] = {}
    for patient_id, kind in session.execute(
        select(Consent.patient_id, Consent.kind).where(
            Consent.patient_id.in_([p.id for p in patients]), Consent.withdrawn_at.is_(None)
        )
    ):
        granted.setdefault(patient_id, set()).add(kind)
    result = []
    for patient in patients:
        consents = granted.get(patient.id, set())
        unmet = rules.prequalify(
            has_health_consent=ConsentKind.HEALTH_DATA in consents,
            has_share_consent=ConsentKind.SHARE_PROFILE in consents,
            insurance_type=patient.insurance_type,
            previous_therapy_end=patient.previous_therapy_end,
            two_year_exception=patient.two_year_exception,
            weekly_hours_available=patient.weekly_hours,
            setting_wish=SettingWish(patient.setting_wish),
            today=today,
        )
        if unmet:
            result.append(BlockedSearch(patient.id, patient.reference, tuple(r.code for r in unmet)))
    return result


def blocks_ending(session: Session, *, today: date, days: int = BLOCK_ENDING_DAYS) -> list[BlockEnding]:
    """Therapists whose block ends within ``days`` days from ``today`` (they return to matching then)."""
    rows = session.scalars(
        select(Therapist)
        .where(
            Therapist.status == TherapistStatus.BLOCKED,
            Therapist.status_until.is_not(None),
            Therapist.status_until <= today + timedelta(days=days),
        )
        .order_by(Therapist.status_until, Therapist.id)
    ).all()
    return [BlockEnding(t.id, display_name(t.title, t.first_name, t.last_name), t.status_until) for t in rows]


def tasks_due(session: Session, *, today: date) -> TasksDue:
    """Follow-up tasks about patients due today or overdue (call backs, missing data, ...)."""
    rows = tasks.due_tasks(session, today=today)
    return TasksDue(count=len(rows), overdue=sum(1 for row in rows if row.overdue), rows=rows)


def work_queue(session: Session, *, now: datetime) -> WorkQueue:
    """Gather every tile of "Heute" at ``now``."""
    today = clock.local_date(now)
    return WorkQueue(
        proposals=proposals_to_review(session),
        calls_due=calls_due(session, now=now),
        answers_to_record=answers_to_record(session),
        conflicts=open_conflicts(session),
        bounced_mail=bounced_mail(session),
        mail_in_doubt=mail_in_doubt(session),
        mail_replies=open_replies(session),
        blocked_searches=blocked_searches(session, today=today),
        blocks_ending=blocks_ending(session, today=today),
        tasks_due=tasks_due(session, today=today),
    )
