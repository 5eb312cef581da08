"""Therapist use cases: create, update, get, list, quick search, and the status changes block/unblock/inactive.

Every function takes the session first and keyword-only arguments, writes an audit row (field names, never
values) and a domain event in the caller's transaction, and does not commit. Example:

    with session_scope() as session:
        therapist = create(session, data={"first_name": "Anna", "last_name": "Schmidt", "postcode": "10115",
                                          "procedures": ["VT individual adults"]},
                           actor="anna@example.org", today=clock.today())
        block(session, therapist_id=therapist.id, reason="Elternzeit", until=date(2027, 3, 1),
              actor="anna@example.org", today=clock.today())
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit import service as audit
from core.db.locking import ensure_unchanged
from core.errors import ConcurrentEdit, NotFound, ValidationError
from core.events import service as events
from core.geo.models import Postcode
from core.messages import Message, field_name, missing
from core.patients.models import LocationPrecision
from core.therapists import practices
from core.therapists.duplicates import PossibleDuplicate, display_name, find_duplicates
from core.therapists.grouping import PINNED_FIELD
from core.therapists.models import AgeGroup, Procedure, Setting, Therapist, TherapistStatus
from core.therapists.status import StatusAction, check_block_until, check_reason, next_status
from core.therapists.validation import FIELDS, clean_therapist

LOCATION_SOURCE_POSTCODE = "postcode_centroid"  # the PLZ centroid, not the street address (as core.geo names it)
GROUPING_FIELDS = {"email", "street", "postcode"}  # a change may move the therapist to another practice
LOCATION_FIELDS = {"street", "postcode"}
MAX_PAGE_SIZE = 500
ACCEPTING_FILTERS = {"yes": True, "no": False, "unknown": None}


@dataclass(frozen=True)
class TherapistFilter:
    """What the therapist list is narrowed to; None means "any"."""

    procedure: str | None = None  # VT, TP, AP, ST
    setting: str | None = None  # individual, group
    age_group: str | None = None  # adults, children_youth
    language: str | None = None  # ISO 639-1, e.g. "en"
    status: str | None = None  # active, blocked, inactive
    accepting: str | None = None  # "yes", "no", "unknown"
    plz_prefix: str | None = None  # 1 to 5 digits, e.g. "101"
    name: str | None = None  # parts of first and/or last name


@dataclass(frozen=True)
class TherapistRow:
    id: int
    name: str
    postcode: str | None
    city: str | None
    status: str
    status_until: date | None
    accepting_patients: bool | None
    accepting_confirmed_on: date | None
    procedures: list[dict[str, str]]
    languages: list[str]
    practice_id: int | None
    last_verified_on: date | None


@dataclass(frozen=True)
class TherapistPage:
    rows: list[TherapistRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


_DISPLAY_COLUMNS = (
    Therapist.id, Therapist.title, Therapist.first_name, Therapist.last_name, Therapist.postcode, Therapist.city,
    Therapist.status, Therapist.status_until, Therapist.accepting_patients, Therapist.accepting_confirmed_on,
    Therapist.procedures, Therapist.languages, Therapist.practice_id, Therapist.last_verified_on,
)  # fmt: skip
SORTS = {
    "name": (func.lower(Therapist.last_name), func.lower(Therapist.first_name)),
    "postcode": (Therapist.postcode,),
    "city": (func.lower(Therapist.city),),
    "status": (Therapist.status,),
    "accepting_confirmed_on": (Therapist.accepting_confirmed_on,),
    "last_verified_on": (Therapist.last_verified_on,),
    "updated_at": (Therapist.updated_at,),
}


def get(session: Session, therapist_id: int) -> Therapist:
    """Return the therapist or raise NotFound."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(missing("therapist", therapist_id))
    return therapist


def get_all(
    session: Session,
    *,
    filters: TherapistFilter | None = None,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> TherapistPage:
    """Return one page of therapists matching ``filters``, sorted and counted in SQL."""
    if sort not in SORTS:
        raise ValidationError(
            Message(
                "list.sort_unknown", "Sort '{sort}' is unknown; use one of {valid}", sort=sort, valid=", ".join(SORTS)
            ),
            field="sort",
        )
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            Message(
                "list.page_size",
                "Page size {size} must be 1 to {maximum}, e.g. 50",
                size=page_size,
                maximum=MAX_PAGE_SIZE,
            ),
            field="page_size",
        )
    conditions = _conditions(filters or TherapistFilter())
    total = session.scalar(select(func.count()).select_from(Therapist).where(*conditions)) or 0
    page = min(max(1, page), max(1, math.ceil(total / page_size)))
    keys = [*SORTS[sort], Therapist.id]
    order = [k.desc().nulls_last() if descending else k.asc().nulls_last() for k in keys]
    query = select(*_DISPLAY_COLUMNS).where(*conditions).order_by(*order)
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size))
    return TherapistPage([_row(r) for r in rows], total, page, page_size)


def search(session: Session, *, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Return therapists whose names start with the words of ``query`` and whose PLZ starts with its digits.

    Each hit: ``{"id", "name" (display name with title), "postcode", "city", "status"}``. Example:
    ``search(session, query="schmidt 101")`` -> therapists named Schmidt in PLZ 101xx, by name.
    """
    words = [w for w in re.split(r"[\s,]+", query.strip().lower()) if w]
    if not words:
        return []
    conditions = []
    for word in words:
        if word.isdigit():
            conditions.append(Therapist.postcode.startswith(word[:5]))
        else:
            conditions.append(
                func.lower(Therapist.last_name).startswith(word, autoescape=True)
                | func.lower(Therapist.first_name).startswith(word, autoescape=True)
            )
    statement = (
        select(Therapist.id, Therapist.title, Therapist.first_name, Therapist.last_name, Therapist.postcode,
               func.coalesce(Therapist.city, Postcode.place).label("city"), Therapist.status)
        .outerjoin(Postcode, Postcode.plz == Therapist.postcode)
        .where(*conditions)
        .order_by(func.lower(Therapist.last_name), func.lower(Therapist.first_name), Therapist.id)
        .limit(max(1, min(limit, 50)))
    )  # fmt: skip
    return [
        {"id": r.id, "name": display_name(r.title, r.first_name, r.last_name), "postcode": r.postcode,
         "city": r.city, "status": r.status.value}
        for r in session.execute(statement)
    ]  # fmt: skip


def editable_values(therapist: Therapist) -> dict[str, Any]:
    """Return the stored values of every field staff edit (what a form shows and sends back as ``original``)."""
    values = {name: copy.deepcopy(getattr(therapist, name)) for name in FIELDS}
    for name in ("gender", "pref_patient_gender", "source"):
        values[name] = getattr(values[name], "value", values[name])
    return values


def create(
    session: Session,
    *,
    data: Mapping[str, Any],
    actor: str,
    today: date,
    allow_duplicate: bool = False,
    actor_id: int | None = None,
) -> Therapist:
    """Validate and add a therapist, put it into its practice; raise PossibleDuplicate unless allowed."""
    values = clean_therapist(session, data, today=today)
    candidates = find_duplicates(
        session, first_name=values["first_name"], last_name=values["last_name"], postcode=values["postcode"],
        email=values["email"], phone=values["phone"],
    )  # fmt: skip
    if candidates and not allow_duplicate:
        raise PossibleDuplicate(candidates)
    therapist = Therapist(**values, status=TherapistStatus.ACTIVE, staff_edited_fields=[])
    _locate(session, therapist)
    session.add(therapist)
    session.flush()
    filled = sorted(name for name in FIELDS if values[name] not in (None, [], {}, ""))
    details: dict[str, Any] = {"fields": filled}
    if candidates:
        details["confirmed_duplicate_of"] = [c.id for c in candidates]
    audit.record(session, actor=actor, actor_id=actor_id, action="therapist.created", entity_type="therapist",
                 entity_id=therapist.id, details=details)  # fmt: skip
    events.emit(
        session, "therapist.created", aggregate_type="therapist", aggregate_id=therapist.id, payload={}
    )  # ids, states and timestamps only (core/events/schemas)
    practices.regroup(session, therapist_ids=[therapist.id], actor=actor)  # then "therapist.practice_changed"
    return therapist


def update(
    session: Session,
    *,
    therapist_id: int,
    version: int,
    original: Mapping[str, Any],
    changes: Mapping[str, Any],
    actor: str,
    today: date,
    actor_id: int | None = None,
    by_staff: bool = True,
) -> Therapist:
    """Apply ``changes`` unless someone saved the therapist since ``version`` (ConcurrentEdit names the fields).

    ``original`` holds the values the form showed (``editable_values`` at load time). Changed fields are
    marked as staff-edited (imports keep them) unless ``by_staff`` is False.
    """
    therapist = get(session, therapist_id)
    ensure_unchanged(therapist, version=version, original=original)
    current = editable_values(therapist)
    merged = {**current, **changes}
    new_answer = "accepting_patients" in changes and changes["accepting_patients"] != current["accepting_patients"]
    if new_answer and merged.get("accepting_confirmed_on") == current["accepting_confirmed_on"]:
        merged["accepting_confirmed_on"] = None  # a new answer is confirmed today unless a date is given
    values = clean_therapist(session, merged, today=today)
    changed = [name for name in FIELDS if values[name] != current[name]]
    if not changed:
        return therapist
    for name in changed:
        setattr(therapist, name, values[name])
    if LOCATION_FIELDS & set(changed):
        _locate(session, therapist)
    if by_staff:
        therapist.staff_edited_fields = sorted({*(therapist.staff_edited_fields or []), *changed})
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentEdit(
            Message(
                "therapist.saved_meanwhile",
                "Therapist {therapist} was saved by someone else at this very moment; "
                "reload and apply your changes again",
                therapist=str(therapist_id),
            )
        ) from None
    if GROUPING_FIELDS & set(changed) and PINNED_FIELD not in therapist.staff_edited_fields:
        practices.regroup(session, therapist_ids=[therapist.id], actor=actor)
    audit.record(session, actor=actor, actor_id=actor_id, action="therapist.updated", entity_type="therapist",
                 entity_id=therapist.id, details={"fields": changed})  # fmt: skip
    events.emit(session, "therapist.updated", aggregate_type="therapist", aggregate_id=therapist.id,
                payload={"fields": changed})  # fmt: skip
    return therapist


def change_status(
    session: Session,
    *,
    therapist_id: int,
    action: StatusAction | str,
    reason: str | None,
    actor: str,
    today: date,
    until: date | None = None,
    version: int | None = None,
    actor_id: int | None = None,
) -> Therapist:
    """Block, unblock, deactivate or reactivate; raise IllegalTransition naming what the status allows."""
    therapist = get(session, therapist_id)
    if version is not None and therapist.version != version:
        raise ConcurrentEdit(
            Message(
                "therapist.changed_meanwhile",
                "Therapist {therapist} was changed by someone else meanwhile (version {version} -> {current}); "
                "reload the page and decide again",
                therapist=str(therapist_id),
                version=version,
                current=therapist.version,
            )
        )
    action = StatusAction(action)
    before = therapist.status
    target = next_status(before, action)
    text = check_reason(action, reason)
    until = check_block_until(until, today=today) if action == StatusAction.BLOCK else None
    therapist.status = target
    therapist.status_reason = None if target == TherapistStatus.ACTIVE else text
    therapist.status_until = until
    session.flush()
    details = {"fields": ["status", "status_reason", "status_until"], "from": before.value, "to": target.value,
               "until": until.isoformat() if until else None}  # fmt: skip
    audit.record(session, actor=actor, actor_id=actor_id, action=f"therapist.{_past(action)}",
                 entity_type="therapist", entity_id=therapist.id, details=details, reason=text)  # fmt: skip
    events.emit(session, f"therapist.{_past(action)}", aggregate_type="therapist", aggregate_id=therapist.id,
                payload={"from": before.value, "to": target.value, "until": details["until"]})  # fmt: skip
    return therapist


def block(session: Session, *, therapist_id: int, reason: str, until: date | None = None, actor: str, today: date,
          version: int | None = None) -> Therapist:  # fmt: skip
    """Stop proposing and contacting the therapist (until ``until``, or until unblocked)."""
    return change_status(session, therapist_id=therapist_id, action=StatusAction.BLOCK, reason=reason,
                         until=until, actor=actor, today=today, version=version)  # fmt: skip


def unblock(session: Session, *, therapist_id: int, reason: str, actor: str, today: date,
            version: int | None = None) -> Therapist:  # fmt: skip
    return change_status(session, therapist_id=therapist_id, action=StatusAction.UNBLOCK, reason=reason,
                         actor=actor, today=today, version=version)  # fmt: skip


def deactivate(session: Session, *, therapist_id: int, reason: str, actor: str, today: date,
               version: int | None = None) -> Therapist:  # fmt: skip
    return change_status(session, therapist_id=therapist_id, action=StatusAction.DEACTIVATE, reason=reason,
                         actor=actor, today=today, version=version)  # fmt: skip


def reactivate(session: Session, *, therapist_id: int, reason: str, actor: str, today: date,
               version: int | None = None) -> Therapist:  # fmt: skip
    return change_status(session, therapist_id=therapist_id, action=StatusAction.REACTIVATE, reason=reason,
                         actor=actor, today=today, version=version)  # fmt: skip


def _past(action: StatusAction) -> str:
    return {"block": "blocked", "unblock": "unblocked", "deactivate": "deactivated", "reactivate": "reactivated"}[
        action.value
    ]


def _locate(session: Session, therapist: Therapist) -> None:
    """Place the therapist on its PLZ centroid (the best location known until an address is geocoded)."""
    centroid = session.get(Postcode, therapist.postcode) if therapist.postcode else None
    if centroid is None:
        therapist.latitude = therapist.longitude = None
        therapist.location_precision = LocationPrecision.NONE
        therapist.location_source = None
        return
    therapist.latitude, therapist.longitude = centroid.latitude, centroid.longitude
    therapist.location_precision = LocationPrecision.POSTCODE
    therapist.location_source = LOCATION_SOURCE_POSTCODE


def _choice(enum_cls: type, value: str, *, field: str) -> str:
    allowed = [member.value for member in enum_cls]
    if value not in allowed:
        raise ValidationError(
            Message(
                "filter.not_one_of",
                "Filter {field} '{value}' is not one of {valid}",
                field=field_name(field),
                value=value,
                valid=", ".join(allowed),
            ),
            field=field,
        )
    return value


def _conditions(filters: TherapistFilter) -> list:
    conditions: list = []
    offer = {
        key: _choice(enum_cls, value, field=key)
        for key, enum_cls, value in (
            ("procedure", Procedure, filters.procedure),
            ("setting", Setting, filters.setting),
            ("age_group", AgeGroup, filters.age_group),
        )
        if value
    }
    if offer:  # one offered combination must match all chosen parts (JSONB containment, GIN-indexed)
        conditions.append(Therapist.procedures.contains([offer]))
    if filters.language:
        code = cast(array([filters.language.strip().lower()]), PG_ARRAY(String(2)))
        conditions.append(Therapist.languages.op("@>")(code))  # GIN-indexed array containment
    if filters.status:
        conditions.append(Therapist.status == _choice(TherapistStatus, filters.status, field="status"))
    if filters.accepting:
        if filters.accepting not in ACCEPTING_FILTERS:
            raise ValidationError(
                Message(
                    "filter.not_one_of",
                    "Filter {field} '{value}' is not one of {valid}",
                    field=field_name("accepting"),
                    value=filters.accepting,
                    valid="yes, no, unknown",
                ),
                field="accepting",
            )
        conditions.append(Therapist.accepting_patients.is_(ACCEPTING_FILTERS[filters.accepting]))
    if filters.plz_prefix:
        prefix = filters.plz_prefix.strip()
        if not re.fullmatch(r"\d{1,5}", prefix):
            raise ValidationError(
                Message("filter.plz_prefix", "PLZ prefix '{prefix}' must be 1 to 5 digits, e.g. 101", prefix=prefix),
                field="plz_prefix",
            )
        conditions.append(Therapist.postcode.startswith(prefix))
    for word in (filters.name or "").split():
        conditions.append(
            Therapist.last_name.icontains(word, autoescape=True) | Therapist.first_name.icontains(word, autoescape=True)
        )
    return conditions


def _row(r: Any) -> TherapistRow:
    return TherapistRow(
        id=r.id, name=display_name(r.title, r.first_name, r.last_name), postcode=r.postcode, city=r.city,
        status=r.status.value, status_until=r.status_until, accepting_patients=r.accepting_patients,
        accepting_confirmed_on=r.accepting_confirmed_on, procedures=r.procedures, languages=r.languages,
        practice_id=r.practice_id, last_verified_on=r.last_verified_on,
    )  # fmt: skip
