"""Retention (DESIGN 8): anonymise closed cases RETENTION_MONTHS after their search ended.

A case is closed when the patient has no active or paused search; it is due when the last search ended
(or, without any search, the record was created) at least RETENTION_MONTHS (default 24) before today.
Due cases are anonymised exactly like an Art. 17 erasure (``core.patients.privacy.erase``), each in its own
transaction so that one failing case does not stop the others; afterwards local mail copies and log lines
are purged and the database is compacted once; form drafts older than a day (core.drafts) are deleted.
The registered job ``retention`` runs it nightly. Example:

    report = run(engine, now=now, dry_run=True)   # who would be anonymised, nothing changes
    report.due, report.anonymised, report.failed
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Engine, and_, cast, exists, func, select
from sqlalchemy.orm import Session, aliased

from core import clock
from core.audit import service as audit
from core.config import Settings, get_settings
from core.db import session_scope
from core.drafts import service as drafts
from core.errors import WorkbenchError
from core.patients import privacy, residue
from core.patients.models import Patient, Search, SearchStatus

ACTOR = "job:retention"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    patient_id: int
    reference: str  # pseudonymous; after anonymisation the record gets a new one
    closed_on: date


@dataclass
class RetentionReport:
    months: int
    cutoff: date  # cases closed on or before this day are due
    dry_run: bool
    due: list[Case] = field(default_factory=list)
    anonymised: list[int] = field(default_factory=list)  # patient ids
    failed: dict[int, str] = field(default_factory=dict)  # patient id -> why
    storage: list[str] = field(default_factory=list)
    drafts_purged: int = 0  # unsaved form input older than a day or of ended logins (core.drafts)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        data["due"] = [{**asdict(c), "closed_on": c.closed_on.isoformat()} for c in self.due]
        data["failed"] = {str(k): v for k, v in self.failed.items()}
        return data

    def counts(self) -> dict[str, Any]:
        """The job's counts (scalars, as job_run keeps them)."""
        return {"months": self.months, "cutoff": self.cutoff.isoformat(), "due": len(self.due),
                "anonymised": len(self.anonymised), "failed": len(self.failed), "dry_run": self.dry_run,
                "drafts_purged": self.drafts_purged}  # fmt: skip


def months_before(day: date, months: int) -> date:
    """Return the same day ``months`` earlier (clamped to the month's end), e.g. 29.02.2028 - 12 -> 28.02.2027."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover - every month has 28 days


def due_cases(session: Session, *, today: date, months: int) -> list[Case]:
    """Return every not yet anonymised patient whose case closed at least ``months`` months before ``today``."""
    cutoff = months_before(today, months)
    other = aliased(Search)  # the outer query joins Search as well
    open_search = exists().where(
        and_(other.patient_id == Patient.id, other.status.in_([SearchStatus.ACTIVE, SearchStatus.PAUSED]))
    )
    closed_on = func.coalesce(func.max(Search.ended_on), cast(func.max(Search.updated_at), Date),
                              cast(Patient.created_at, Date))  # fmt: skip
    rows = session.execute(
        select(Patient.id, Patient.reference, closed_on)
        .outerjoin(Search, Search.patient_id == Patient.id)
        .where(Patient.erased_at.is_(None), ~open_search)
        .group_by(Patient.id)
        .having(closed_on <= cutoff)
        .order_by(Patient.id)
    ).all()
    return [Case(patient_id=pid, reference=ref, closed_on=day) for pid, ref, day in rows]


def run(engine: Engine, *, now: datetime, dry_run: bool = False, settings: Settings | None = None) -> RetentionReport:
    """Anonymise every due case (see the module docstring); with ``dry_run`` only report them."""
    settings = settings or get_settings()
    months = settings.retention_months
    report = RetentionReport(months=months, cutoff=months_before(clock.local_date(now), months), dry_run=dry_run)
    with session_scope(engine) as session:
        report.due = due_cases(session, today=clock.local_date(now), months=months)
        if not dry_run:  # stale form drafts hold health data nobody saved: they go every night
            report.drafts_purged = drafts.purge(session, now=now)
    if dry_run or not report.due:
        return report
    identifiers: list[str] = []
    for case in report.due:
        reason = f"retention: case closed on {case.closed_on:%d.%m.%Y}, {months} months ago"
        try:
            with session_scope(engine) as session:
                erased = privacy.erase(session, patient_id=case.patient_id, actor=ACTOR, reason=reason, now=now,
                                       settings=settings)  # fmt: skip
        except WorkbenchError as exc:  # one bad record must not stop the run
            _log.warning("retention: patient %s not anonymised: %s", case.patient_id, exc)
            report.failed[case.patient_id] = str(exc)
            continue
        identifiers += erased.identifiers
        report.anonymised.append(case.patient_id)
    purged = residue.purge_local_copies(settings.data_dir, tuple(identifiers))
    report.storage = [f"local mail copies deleted: {purged.mails_deleted}, "
                      f"log lines redacted: {purged.log_lines_redacted}"]  # fmt: skip
    report.storage += residue.compact_database(engine, embedded=settings.database_url is None)
    with session_scope(engine) as session:
        audit.record(session, actor=ACTOR, action="retention.completed", entity_type="job", entity_id="retention",
                     details=report.as_dict())  # fmt: skip
    return report


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The registered job ``retention``: each case commits on its own (an anonymisation must not wait)."""
    return run(session.get_bind(), now=now, dry_run=dry_run).counts()
