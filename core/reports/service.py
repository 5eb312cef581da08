"""Save, share, update, delete and list custom reports; every change is audited.

Example:
    report = create(session, owner=user, name="Vermittlungen je Region", definition=definition, shared=True)
    visible = get_all(session, user_id=user.id)   # the user's own reports and those colleagues shared

A report belongs to its owner: only the owner renames, changes, shares or deletes it; colleagues see it
(read-only) once it is shared. Definitions are checked against the whitelists of core.warehouse.reports.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.db.locking import ensure_unchanged
from core.errors import NotFound, ValidationError
from core.messages import Message
from core.reports.models import NAME_LENGTH, SavedReport
from core.warehouse.reports import ReportDefinition, validate


def _owner(owner: Any) -> tuple[int, str]:
    return owner.id, owner.email


def _clean_name(session: Session, *, name: str, owner_id: int, exclude_id: int | None = None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationError(
            Message("report.name_required", "The report needs a name, e.g. 'Vermittlungen je Region'"), field="name"
        )
    if len(cleaned) > NAME_LENGTH:
        raise ValidationError(
            Message(
                "report.name_too_long",
                "The name has {length} characters; shorten it to at most {max_length}",
                length=len(cleaned),
                max_length=NAME_LENGTH,
            ),
            field="name",
        )
    query = select(SavedReport.id).where(
        SavedReport.owner_id == owner_id, func.lower(SavedReport.name) == cleaned.lower()
    )
    if exclude_id is not None:
        query = query.where(SavedReport.id != exclude_id)
    if session.scalar(query) is not None:
        raise ValidationError(
            Message(
                "report.name_taken",
                "You already have a report named '{name}'; choose another name or update that report",
                name=cleaned,
            ),
            field="name",
        )
    return cleaned


def _checked(definition: ReportDefinition) -> dict[str, Any]:
    validate(definition)
    return definition.to_json()


def get(session: Session, *, report_id: int, user_id: int) -> SavedReport:
    """Return a report the user may see (their own or a shared one), or raise NotFound."""
    report = session.get(SavedReport, report_id)
    if report is None or (report.owner_id != user_id and not report.shared):
        raise NotFound(
            Message(
                "report.not_found",
                "Report {key} does not exist or is not shared with you; pick one from the list",
                key=str(report_id),
            )
        )
    return report


def _own(session: Session, *, report_id: int, user_id: int) -> SavedReport:
    report = get(session, report_id=report_id, user_id=user_id)
    if report.owner_id != user_id:
        raise ValidationError(
            Message(
                "report.not_yours",
                "Report '{name}' belongs to a colleague; save a copy under your own name to change it",
                name=report.name,
            ),
            field="report",
        )
    return report


def get_all(session: Session, *, user_id: int) -> list[SavedReport]:
    """Return the user's own reports and the ones colleagues shared, own first, then by name."""
    query = (
        select(SavedReport)
        .where(or_(SavedReport.owner_id == user_id, SavedReport.shared.is_(True)))
        .order_by((SavedReport.owner_id != user_id), func.lower(SavedReport.name))
    )
    return list(session.scalars(query))


def create(
    session: Session, *, owner: Any, name: str, definition: ReportDefinition, shared: bool = False
) -> SavedReport:
    """Save a new report for ``owner`` (a staff user); raise ValidationError for a bad name or definition."""
    owner_id, actor = _owner(owner)
    report = SavedReport(
        name=_clean_name(session, name=name, owner_id=owner_id),
        owner_id=owner_id,
        shared=bool(shared),
        definition=_checked(definition),
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=owner_id,
        action="report.create",
        entity_type="saved_report",
        entity_id=report.id,
        details={"name": report.name, "shared": report.shared, "definition": report.definition},
    )
    return report


def update(
    session: Session,
    *,
    owner: Any,
    report_id: int,
    version: int,
    name: str | None = None,
    definition: ReportDefinition | None = None,
    shared: bool | None = None,
) -> SavedReport:
    """Change the owner's report (name, definition, sharing); ``version`` is the one the form showed."""
    owner_id, actor = _owner(owner)
    report = _own(session, report_id=report_id, user_id=owner_id)
    ensure_unchanged(
        report,
        version=version,
        original={"name": report.name, "shared": report.shared, "definition": report.definition},
    )
    changes: dict[str, Any] = {}
    if name is not None:
        cleaned = _clean_name(session, name=name, owner_id=owner_id, exclude_id=report.id)
        if cleaned != report.name:
            changes["name"] = [report.name, cleaned]
            report.name = cleaned
    if definition is not None:
        checked = _checked(definition)
        if checked != report.definition:
            changes["definition"] = [report.definition, checked]
            report.definition = checked
    if shared is not None and bool(shared) != report.shared:
        changes["shared"] = [report.shared, bool(shared)]
        report.shared = bool(shared)
    if changes:
        session.flush()
        audit.record(
            session,
            actor=actor,
            actor_id=owner_id,
            action="report.update",
            entity_type="saved_report",
            entity_id=report.id,
            details=changes,
        )
    return report


def delete(session: Session, *, owner: Any, report_id: int) -> None:
    """Delete the owner's report (colleagues who saw it shared no longer do)."""
    owner_id, actor = _owner(owner)
    report = _own(session, report_id=report_id, user_id=owner_id)
    audit.record(
        session,
        actor=actor,
        actor_id=owner_id,
        action="report.delete",
        entity_type="saved_report",
        entity_id=report.id,
        details={"name": report.name, "definition": report.definition},
    )
    session.delete(report)
    session.flush()


def definition_of(report: SavedReport) -> ReportDefinition:
    """The report's definition, ready for core.warehouse.reports.run_report."""
    return ReportDefinition.from_json(report.definition)
