"""Practices: (re)group therapists, and the staff actions split and merge; each change is audited.

The grouping rule lives in core.therapists.grouping (pure); this module loads therapists, applies the
moves, keeps each practice's contact channel in step with its members and removes emptied practices.

Example:
    with session_scope() as session:
        regroup(session, therapist_ids=[new.id], actor="anna@example.org")
        split(session, therapist_id=12, actor="anna@example.org", reason="Eigene Praxis seit 2026")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.messages import Message, missing
from core.therapists import grouping
from core.therapists.grouping import PINNED_FIELD, Member
from core.therapists.models import ContactChannel, Practice, Therapist
from core.therapists.phone_hours import normalise_phone_hours

MAX_NAMES_IN_PRACTICE_NAME = 3  # "Praxis Abel, Berg, Cohn u. a." stays readable in lists


@dataclass(frozen=True)
class PracticeSummary:
    id: int
    name: str
    postcode: str | None
    city: str | None
    email: str | None
    contact_channel: str
    members: int


def get(session: Session, practice_id: int) -> Practice:
    """Return the practice or raise NotFound."""
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise NotFound(missing("practice", practice_id))
    return practice


def members(session: Session, practice_id: int) -> list[Therapist]:
    """Return the practice's therapists by name."""
    query = (
        select(Therapist)
        .where(Therapist.practice_id == practice_id)
        .order_by(func.lower(Therapist.last_name), func.lower(Therapist.first_name), Therapist.id)
    )
    return list(session.scalars(query))


def merge_candidates(session: Session, *, practice_id: int, limit: int = 20) -> list[PracticeSummary]:
    """Return other practices at the same PLZ (the likeliest to be the same practice), largest first."""
    practice = get(session, practice_id)
    size = select(func.count()).where(Therapist.practice_id == Practice.id).scalar_subquery()
    query = (
        select(Practice, size)
        .where(Practice.postcode == practice.postcode, Practice.id != practice.id)
        .order_by(size.desc(), Practice.id)
        .limit(limit)
    )
    return [_summary(p, n) for p, n in session.execute(query)]


def summary(session: Session, practice_id: int) -> PracticeSummary:
    """Return the practice with its member count."""
    practice = get(session, practice_id)
    count = session.scalar(select(func.count()).where(Therapist.practice_id == practice_id))
    return _summary(practice, count)


def _summary(practice: Practice, count: int) -> PracticeSummary:
    return PracticeSummary(practice.id, practice.name, practice.postcode, practice.city, practice.email_normalized,
                           practice.contact_channel.value, count)  # fmt: skip


def regroup(session: Session, *, therapist_ids: Iterable[int] | None = None, actor: str) -> dict[str, int]:
    """Put the given therapists (and everyone linked to them) into practices by e-mail and address.

    ``therapist_ids=None`` regroups everybody. Returns counts: moved therapists, created and removed practices.
    """
    scope = _all_members(session) if therapist_ids is None else _linked_members(session, set(therapist_ids))
    moves, groups = grouping.practice_moves(scope)
    if not moves:
        return {"moved": 0, "created": 0, "removed": 0}
    by_id = {m.id: m for m in scope}
    therapists = {t.id: t for t in session.scalars(select(Therapist).where(Therapist.id.in_(moves)))}
    new_practices: dict[int, Practice] = {}
    touched: set[int] = set()
    flows: dict[int, Counter[int]] = {}  # old practice -> where its members went
    for group in groups:
        for therapist_id in (i for i in group if i in moves):
            target = moves[therapist_id]
            if target is None:
                if group[0] not in new_practices:
                    new_practices[group[0]] = _new_practice(session, [therapists[i] for i in group if i in moves])
                target = new_practices[group[0]].id
            therapist = therapists[therapist_id]
            old = by_id[therapist_id].practice_id
            therapist.practice_id = target
            touched.update(p for p in (old, target) if p is not None)
            if old is not None:
                flows.setdefault(old, Counter())[target] += 1
            _record_move(session, therapist, old, target, actor=actor, reason="regrouped by e-mail and address")
    session.flush()
    removed = _refresh_all(session, touched, actor=actor, flows=flows)
    return {"moved": len(moves), "created": len(new_practices), "removed": removed}


def split(session: Session, *, therapist_id: int, actor: str, reason: str | None = None) -> Practice:
    """Move a therapist out of its practice into a new practice of its own; return the new practice."""
    therapist = _therapist(session, therapist_id)
    old_id = therapist.practice_id
    size = session.scalar(select(func.count()).where(Therapist.practice_id == old_id)) if old_id else 0
    if old_id is None or size < 2:
        raise ValidationError(
            Message(
                "practice.nothing_to_split",
                "Therapist {therapist} is the only member of their practice; there is nothing to split",
                therapist=str(therapist_id),
            ),
            field="therapist_id",
        )
    practice = _new_practice(session, [therapist])
    therapist.practice_id = practice.id
    _pin(therapist)
    session.flush()
    _refresh_all(session, {old_id, practice.id}, actor=actor)
    _record_move(session, therapist, old_id, practice.id, actor=actor, reason=reason or "split by staff")
    audit.record(session, actor=actor, action="practice.split", entity_type="practice", entity_id=old_id,
                 details={"therapist_id": therapist_id, "new_practice_id": practice.id}, reason=reason)  # fmt: skip
    events.emit(session, "practice.split", aggregate_type="practice", aggregate_id=old_id,
                payload={"therapist_id": therapist_id, "new_practice_id": practice.id})  # fmt: skip
    return practice


def merge(session: Session, *, source_id: int, target_id: int, actor: str, reason: str | None = None) -> Practice:
    """Move every therapist of practice ``source_id`` into ``target_id`` and remove the source; return the target.

    The target inherits the source's contact history (inquiries, calls) so contact limits keep counting.
    """
    if source_id == target_id:
        raise ValidationError(
            Message(
                "practice.merge_itself",
                "Practice {practice} cannot be merged with itself; choose another practice",
                practice=str(source_id),
            ),
            field="source_id",
        )
    source, target = get(session, source_id), get(session, target_id)
    moved = members(session, source_id)
    for therapist in moved:
        therapist.practice_id = target.id
        _record_move(session, therapist, source_id, target_id, actor=actor, reason=reason or "merged by staff")
    for therapist in [*members(session, target_id), *moved]:
        _pin(therapist)  # staff confirmed these belong together; a later regroup keeps them so
    target.cooldown_until = max(filter(None, [target.cooldown_until, source.cooldown_until]), default=None)
    target.last_contacted_at = max(filter(None, [target.last_contacted_at, source.last_contacted_at]), default=None)
    if not target.phone_hours and source.phone_hours:
        target.phone_hours = dict(source.phone_hours)
    session.flush()
    _repoint(session, source_id, target_id)
    session.delete(source)
    session.flush()
    _refresh(session, target)
    details = {"source_practice_id": source_id, "therapist_ids": [t.id for t in moved]}
    audit.record(session, actor=actor, action="practice.merged", entity_type="practice", entity_id=target_id,
                 details=details, reason=reason)  # fmt: skip
    events.emit(session, "practice.merged", aggregate_type="practice", aggregate_id=target_id, payload=details)
    return target


def _therapist(session: Session, therapist_id: int) -> Therapist:
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(missing("therapist", therapist_id))
    return therapist


def _pin(therapist: Therapist) -> None:
    if PINNED_FIELD not in (therapist.staff_edited_fields or []):
        therapist.staff_edited_fields = sorted({*(therapist.staff_edited_fields or []), PINNED_FIELD})


def _record_move(session: Session, therapist: Therapist, old: int | None, new: int, *, actor: str, reason: str) -> None:
    details = {"fields": ["practice_id"], "from_practice_id": old, "to_practice_id": new}
    audit.record(session, actor=actor, action="therapist.practice_changed", entity_type="therapist",
                 entity_id=therapist.id, details=details, reason=reason)  # fmt: skip
    events.emit(session, "therapist.practice_changed", aggregate_type="therapist", aggregate_id=therapist.id,
                payload=details)  # fmt: skip


_MEMBER_COLUMNS = (Therapist.id, Therapist.email, Therapist.street, Therapist.postcode, Therapist.practice_id,
                   Therapist.staff_edited_fields)  # fmt: skip


def _member(row: Any) -> Member:
    return Member(row.id, row.email, row.street, row.postcode, row.practice_id,
                  PINNED_FIELD in (row.staff_edited_fields or []))  # fmt: skip


def _all_members(session: Session) -> list[Member]:
    return [_member(row) for row in session.execute(select(*_MEMBER_COLUMNS))]


def _linked_members(session: Session, ids: set[int]) -> list[Member]:
    """Return the therapists ``ids`` and everyone sharing an e-mail, an address or a practice with them."""
    known: dict[int, Member] = {}
    frontier = set(ids)
    while frontier:
        rows = [_member(r) for r in session.execute(select(*_MEMBER_COLUMNS).where(Therapist.id.in_(frontier)))]
        known.update((m.id, m) for m in rows)
        emails = {grouping.normalise_email(m.email) for m in rows} - {None}
        addresses = {grouping.address_key(m.street, m.postcode) for m in rows} - {None}
        practices = {m.practice_id for m in rows} - {None}
        query = select(*_MEMBER_COLUMNS).where(
            or_(
                func.lower(func.trim(Therapist.email)).in_(emails),
                and_(Therapist.postcode.in_({a.split("|")[0] for a in addresses}), Therapist.street.is_not(None)),
                Therapist.practice_id.in_(practices),
            )
        )
        linked = [_member(r) for r in session.execute(query)]
        frontier = {
            m.id
            for m in linked
            if m.id not in known
            and (
                m.practice_id in practices
                or grouping.normalise_email(m.email) in emails
                or grouping.address_key(m.street, m.postcode) in addresses
            )
        }
    return list(known.values())


def _new_practice(session: Session, therapists: Sequence[Therapist]) -> Practice:
    first = min(therapists, key=lambda t: t.id)
    practice = Practice(
        name=_practice_name(therapists), street=first.street, postcode=first.postcode, city=first.city,
        latitude=first.latitude, longitude=first.longitude, location_precision=first.location_precision,
        phone_hours=_union_hours(t.phone_hours for t in therapists),
    )  # fmt: skip
    _derive_contact(practice, therapists)
    session.add(practice)
    session.flush()
    return practice


def _practice_name(therapists: Sequence[Therapist]) -> str:
    ordered = sorted(therapists, key=lambda t: t.id)
    if len(ordered) == 1:
        t = ordered[0]
        return " ".join(filter(None, ["Praxis", t.title, t.first_name, t.last_name]))
    names = [t.last_name for t in ordered[:MAX_NAMES_IN_PRACTICE_NAME]]
    more = " u. a." if len(ordered) > MAX_NAMES_IN_PRACTICE_NAME else ""
    return f"Praxis {', '.join(names)}{more}"


def _union_hours(hours: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    combined: dict[str, list] = {}
    for item in hours:
        for day, pairs in (item or {}).items():
            combined.setdefault(day, []).extend(pairs)
    return normalise_phone_hours(combined)


def _derive_contact(practice: Practice, therapists: Sequence[Therapist]) -> None:
    """One contact channel per practice: e-mail if any member has one, else phone."""
    channel, email = grouping.channel_for(t.email for t in therapists)
    practice.contact_channel = ContactChannel(channel)
    practice.email_normalized = email
    phone = grouping.most_common(t.phone for t in therapists)
    if phone:
        practice.phone = phone


def _refresh(session: Session, practice: Practice) -> None:
    team = members(session, practice.id)
    if not team:
        return
    _derive_contact(practice, team)
    if not practice.postcode:
        first = min(team, key=lambda t: t.id)
        practice.street, practice.postcode, practice.city = first.street, first.postcode, first.city
        practice.latitude, practice.longitude = first.latitude, first.longitude
        practice.location_precision = first.location_precision
    if not practice.phone_hours:
        practice.phone_hours = _union_hours(t.phone_hours for t in team)


def _refresh_all(
    session: Session, practice_ids: set[int], *, actor: str, flows: dict[int, Counter[int]] | None = None
) -> int:
    """Refresh the touched practices; remove emptied ones, their history going where most members went."""
    removed = 0
    for practice_id in sorted(practice_ids):
        practice = session.get(Practice, practice_id)
        if practice is None:
            continue
        if members(session, practice_id):
            _refresh(session, practice)
            continue
        went = (flows or {}).get(practice_id)
        successor = min(went, key=lambda p: (-went[p], p)) if went else None
        if successor is not None:
            _repoint(session, practice_id, successor)
        session.delete(practice)
        removed += 1
        audit.record(session, actor=actor, action="practice.removed", entity_type="practice", entity_id=practice_id,
                     details={"successor_practice_id": successor}, reason="no therapists left")  # fmt: skip
    session.flush()
    return removed


def _repoint(session: Session, source_id: int, target_id: int) -> None:
    """Point every other record that references practice ``source_id`` (inquiries, calls, ...) at ``target_id``."""
    import core.db.models  # noqa: F401 - registers every table, so no reference is missed

    practice_table = Practice.__table__
    for table in Practice.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is practice_table and table is not Therapist.__table__:
                column = fk.parent
                session.execute(update(table).where(column == source_id).values({column.name: target_id}))
