"""Read-only queries for the patient list and the quick search (rows, not domain objects).

Example:
    page = list_patients(session, filters=PatientFilters(text="meier", statuses=["searching"]), today=today)
    page.rows[0]["reference"], page.total
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, and_, func, or_, select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.messages import Message
from core.patients.models import Patient, Search, SearchStatus

SORTS = {
    "name": (Patient.last_name, Patient.first_name, Patient.id),
    "reference": (Patient.reference,),
    "waiting": (Search.started_on.asc().nulls_last(), Patient.id),  # longest waiting first
    "newest": (Patient.created_at.desc(), Patient.id.desc()),
    "postcode": (Patient.postcode, Patient.id),
}
MAX_PAGE_SIZE = 200


def _like_escaped(text: str) -> str:
    """Escape LIKE's wildcards so that '%' and '_' typed by staff match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_matches(text: str):
    """SQL condition: ``text`` occurs in the patient's name, ignoring case, accents and invisible characters.

    One character (e.g. the surname 李) matches the start of the first or last name, longer text anywhere in
    "first last"; both sides go through search_fold() (migration 0007_forms), and indexes serve both.
    """
    typed = func.search_fold(_like_escaped(text), type_=String)
    full_name = func.search_full_name(Patient.first_name, Patient.last_name, type_=String)
    if len(text) == 1:
        return or_(func.search_fold(Patient.last_name, type_=String).like(typed + "%"), full_name.like(typed + "%"))
    return full_name.like("%" + typed + "%")


@dataclass(frozen=True)
class PatientFilters:
    text: str = ""  # name or reference
    postcode_prefix: str = ""
    statuses: list[str] = field(default_factory=list)
    insurance_types: list[str] = field(default_factory=list)
    min_waiting_days: int | None = None


@dataclass(frozen=True)
class PatientPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _open_search():
    return and_(Search.patient_id == Patient.id, Search.status.in_([SearchStatus.ACTIVE, SearchStatus.PAUSED]))


def list_patients(
    session: Session, *, filters: PatientFilters, today: date, sort: str = "name", page: int = 1, page_size: int = 50
) -> PatientPage:
    """Return one page of patients matching ``filters``, sorted in SQL (quick with tens of thousands)."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    prefix = filters.postcode_prefix.strip()
    if prefix and not prefix.isdigit():
        raise ValidationError(
            Message(
                "filter.plz_prefix_digits",
                "PLZ prefix '{prefix}' must contain digits only, e.g. 10 for Berlin",
                prefix=prefix,
            ),
            field="postcode_prefix",
        )
    conditions = [Patient.erased_at.is_(None)]
    text = filters.text.strip()
    if text:
        conditions.append(or_(name_matches(text), Patient.reference == text.upper()))
    if filters.postcode_prefix.strip():
        conditions.append(Patient.postcode.startswith(filters.postcode_prefix.strip()))
    if filters.statuses:
        conditions.append(Patient.status.in_(filters.statuses))
    if filters.insurance_types:
        conditions.append(Patient.insurance_type.in_(filters.insurance_types))
    if filters.min_waiting_days is not None:
        conditions.append(Search.started_on <= today - timedelta(days=filters.min_waiting_days))
    base = select(Patient.id).outerjoin(Search, _open_search()).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    query = (
        select(
            Patient.id,
            Patient.reference,
            Patient.first_name,
            Patient.last_name,
            Patient.postcode,
            Patient.city,
            Patient.status,
            Patient.insurance_type,
            Search.status.label("search_status"),
            Search.started_on,
        )
        .outerjoin(Search, _open_search())
        .where(*conditions)
        .order_by(*SORTS.get(sort, SORTS["name"]))
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    rows = []
    for r in session.execute(query):
        row = dict(r._mapping)
        row["waiting_days"] = (today - r.started_on).days if r.started_on else None
        rows.append(row)
    return PatientPage(rows=rows, total=total, page=max(page, 1), page_size=page_size)


def quick_search(session: Session, *, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """Find patients by reference, name (from one character on) or PLZ for the quick-search box."""
    text = query.strip()
    if not text:
        return []
    condition = or_(
        Patient.reference == text.upper(),
        name_matches(text),
        Patient.postcode.startswith(text) if text.isdigit() and len(text) >= 2 else False,
    )
    rows = session.execute(
        select(Patient.id, Patient.reference, Patient.first_name, Patient.last_name, Patient.postcode, Patient.status)
        .where(condition, Patient.erased_at.is_(None))
        .order_by(Patient.last_name, Patient.first_name)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]
