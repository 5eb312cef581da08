"""Put the therapists an import created into practices, set-based (the rules are core.therapists.grouping's).

``practices.regroup`` places one therapist at a time (a flush and an audit row per practice): right for
staff edits, minutes for the 20,000 new therapists of a nationwide import. Here the same pure decision
(``grouping.practice_moves``) runs once over the new therapists and the existing ones they share an e-mail
or an address with; new practices and the moves are written with one statement each. A move that would
take an existing therapist elsewhere (a new colleague links two practices) is left to ``practices.regroup``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from core.directory.entries import Entry
from core.therapists import grouping, practices
from core.therapists.grouping import Member
from core.therapists.phone_hours import normalise_phone_hours

MAX_NAMES = practices.MAX_NAMES_IN_PRACTICE_NAME  # "Praxis A, B, C u. a."
# grouping's key, remembered for the import: colleagues share an address and each key costs five regexes
_address_key = functools.lru_cache(maxsize=100_000)(grouping.address_key)

_HOURS_REMEMBERED = 20_000
_hours_seen: dict[str, Any] = {}


def _practice_hours(by_day: dict[str, list]) -> Any:
    """``normalise_phone_hours`` remembered per distinct week (the result is only serialised, never changed).

    The key is the week's repr, so only an identical input shares a result; an invalid week raises each time.
    """
    key = repr(by_day)
    normal = _hours_seen.get(key)
    if normal is None:
        normal = normalise_phone_hours(by_day)
        if len(_hours_seen) >= _HOURS_REMEMBERED:
            _hours_seen.clear()
        _hours_seen[key] = normal
    return normal


_LINKED = text(
    """
    SELECT id, email, street, postcode, practice_id, staff_edited_fields FROM therapist
    WHERE id <> ALL(:new) AND (lower(trim(email)) = ANY(:emails) OR (postcode = ANY(:postcodes) AND street IS NOT NULL))
    """
)
_PRACTICES = """
    INSERT INTO practice (name, email_normalized, phone, street, postcode, city, latitude, longitude,
        location_precision, contact_channel, phone_hours, version, created_at, updated_at)
    SELECT r.name, r.email, r.phone, r.street, r.postcode, r.city, r.latitude, r.longitude, r.precision,
        r.channel, r.hours, 1, now(), now()
    FROM jsonb_to_recordset(:rows) AS r(name text, email text, phone text, street text, postcode text, city text,
        latitude float8, longitude float8, precision text, channel text, hours jsonb, ord int)
    ORDER BY r.ord
    RETURNING id
"""
_MOVES = """
    UPDATE therapist t SET practice_id = r.practice FROM jsonb_to_recordset(:rows) AS r(id int, practice int)
    WHERE t.id = r.id
"""
_AUDIT = """
    INSERT INTO audit_event (actor, action, entity_type, entity_id, details, reason)
    SELECT :actor, 'therapist.practice_changed', 'therapist', r.id::text,
        jsonb_build_object('fields', jsonb_build_array('practice_id'), 'from_practice_id', NULL,
                           'to_practice_id', r.practice), 'regrouped by e-mail and address'
    FROM jsonb_to_recordset(:rows) AS r(id int, practice int)
"""


def _run(session: Session, sql: str, rows: list[dict[str, Any]], **params: Any) -> Any:
    return session.execute(text(sql).bindparams(bindparam("rows", type_=JSONB)), {"rows": rows, **params})


def _practice_row(team: Sequence[tuple[int, Entry]], order: int) -> dict[str, Any]:
    team = sorted(team, key=lambda pair: pair[0])
    first = team[0][1].values
    if len(team) == 1:
        name = " ".join(filter(None, ["Praxis", first["title"], first["first_name"], first["last_name"]]))
    else:
        more = " u. a." if len(team) > MAX_NAMES else ""
        name = f"Praxis {', '.join(e.values['last_name'] for _, e in team[:MAX_NAMES])}{more}"
    channel, email = grouping.channel_for(e.values["email"] for _, e in team)
    hours: dict[str, list] = {}
    for _, e in team:
        for day, pairs in e.values["phone_hours"].items():
            hours.setdefault(day, []).extend(pairs)
    return {
        "name": name[:200], "email": email, "phone": grouping.most_common(e.values["phone"] for _, e in team),
        "street": first["street"], "postcode": first["postcode"], "city": first["city"],
        "latitude": first["latitude"], "longitude": first["longitude"],
        "precision": "none" if first["latitude"] is None else "address", "channel": channel,
        "hours": _practice_hours(hours), "ord": order,
    }  # fmt: skip


@dataclass(frozen=True)
class Places:
    """Where the new therapists go: decided, and the new practices written, before or after they are inserted."""

    targets: dict[int, int]  # new therapist id -> practice id
    existing_moved: list[int]  # existing therapists a new colleague links elsewhere: left to practices.regroup
    practices_created: int


def decide(session: Session, *, created: Sequence[tuple[int, Entry]]) -> Places:
    """Decide the practices of the therapists created (ids drawn, rows written or not yet) and write the new ones."""
    if not created:
        return Places({}, [], 0)
    by_id = dict(created)
    new_members = [Member(i, e.values["email"], e.values["street"], e.values["postcode"], None) for i, e in created]
    keys = {_address_key(m.street, m.postcode) for m in new_members} - {None}
    emails = {grouping.normalise_email(m.email) for m in new_members} - {None}
    linked = []
    for row in session.execute(_LINKED, {"new": list(by_id), "emails": sorted(emails),
                                         "postcodes": sorted({k.split("|")[0] for k in keys})}):  # fmt: skip
        member = Member(row.id, row.email, row.street, row.postcode, row.practice_id,
                        grouping.PINNED_FIELD in (row.staff_edited_fields or []))  # fmt: skip
        if _address_key(member.street, member.postcode) in keys or grouping.normalise_email(member.email) in emails:
            linked.append(member)
    moves, groups = grouping.practice_moves([*new_members, *linked])
    existing_moved = [i for i in moves if i not in by_id]
    new_groups = [[i for i in group if i in by_id and moves.get(i, 0) is None] for group in groups]
    new_groups = [group for group in new_groups if group]
    rows = [_practice_row([(i, by_id[i]) for i in group], order) for order, group in enumerate(new_groups)]
    practice_ids = list(session.scalars(text(_PRACTICES).bindparams(bindparam("rows", type_=JSONB)), {"rows": rows}))
    targets = {i: practice_id for group, practice_id in zip(new_groups, practice_ids, strict=True) for i in group}
    targets.update({i: target for i, target in moves.items() if i in by_id and target is not None})
    return Places(targets, existing_moved, len(practice_ids))


def record(session: Session, places: Places, *, actor: str) -> dict[str, int]:
    """Audit the placements (the therapists hold their practice by now) and regroup the existing ones moved."""
    placed = [{"id": i, "practice": p} for i, p in places.targets.items()]
    if placed:
        _run(session, _AUDIT, placed, actor=actor)
    if places.existing_moved:
        practices.regroup(session, therapist_ids=places.existing_moved, actor=actor)
    return {"placed": len(placed), "practices_created": places.practices_created,
            "regrouped": len(places.existing_moved)}  # fmt: skip


def place_new(session: Session, *, created: Sequence[tuple[int, Entry]], actor: str) -> dict[str, int]:
    """Put the newly created (already inserted) therapists into existing or new practices; return counts."""
    places = decide(session, created=created)
    if places.targets:
        _run(session, _MOVES, [{"id": i, "practice": p} for i, p in places.targets.items()])
    return record(session, places, actor=actor)
