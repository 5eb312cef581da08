"""Which therapists form a practice: a pure, deterministic decision (contact limits apply per practice).

Therapists belong together when they share a normalised e-mail address or the same address (street and
PLZ, compared after normalising spelling). Staff decisions win: a therapist whose practice staff set by
hand (split or merge, "pinned") never moves, and pinned colleagues of one practice stay one group.

Example:
    group_members([Member(1, "info@praxis.de", "Hauptstr. 1", "10115", 7),
                   Member(2, " Info@Praxis.de", None, None, None),
                   Member(3, None, "Hauptstraße 1", "10115", None)])
    -> [[1, 2, 3]]
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PINNED_FIELD = "practice_id"  # in Therapist.staff_edited_fields: staff placed this therapist by hand


@dataclass(frozen=True)
class Member:
    id: int
    email: str | None
    street: str | None
    postcode: str | None
    practice_id: int | None
    pinned: bool = False


def normalise_email(email: str | None) -> str | None:
    """Return the address lower-cased and trimmed, or None: 'Info@Praxis.DE ' -> 'info@praxis.de'."""
    text = (email or "").strip().lower()
    return text or None


@functools.lru_cache(maxsize=100_000)  # five regexes; a nationwide import asks about 35,000 streets 4 times each
def normalise_street(street: str | None) -> str:
    """Return a comparable spelling: 'Haupt-Str. 12 a' and 'Hauptstraße 12a' -> 'hauptstrasse 12a'."""
    text = (street or "").lower().replace("ß", "ss")
    text = re.sub(r"str\.|strasse\b|str\b", "strasse", text)
    text = re.sub(r"[^a-z0-9äöü]+", " ", text)
    text = re.sub(r"([a-zäöü])(\d)", r"\1 \2", text)  # "Hauptstr.12" -> "hauptstrasse 12"
    text = re.sub(r"(\d+)\s+([a-z])\b", r"\1\2", text)  # house number suffix: "12 a" -> "12a"
    text = re.sub(r"([a-zäöü])\s+strasse\b", r"\1strasse", text)  # "Haupt Strasse" -> "hauptstrasse"
    return " ".join(text.split())


def address_key(street: str | None, postcode: str | None) -> str | None:
    """Return 'PLZ|street' when both are known, else None (a PLZ alone says nothing about a practice)."""
    normal = normalise_street(street)
    if not normal or not postcode:
        return None
    return f"{postcode.strip()}|{normal}"


def group_members(members: Iterable[Member]) -> list[list[int]]:
    """Return the groups of member ids (each sorted), ordered by their smallest id."""
    members = sorted(members, key=lambda m: m.id)
    parent = {m.id: m.id for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_with: dict[str, int] = {}
    for m in members:
        keys = [f"email:{normalise_email(m.email)}" if m.email and normalise_email(m.email) else None,
                f"address:{address_key(m.street, m.postcode)}" if address_key(m.street, m.postcode) else None,
                f"pinned:{m.practice_id}" if m.pinned and m.practice_id is not None else None]  # fmt: skip
        for key in filter(None, keys):
            if key in first_with:
                union(first_with[key], m.id)
            else:
                first_with[key] = m.id
    groups: dict[int, list[int]] = {}
    for m in members:
        groups.setdefault(find(m.id), []).append(m.id)
    return sorted(groups.values(), key=lambda ids: ids[0])


def assign_practices(members: Sequence[Member]) -> dict[int, int | None]:
    """Return the practice each group should live in (keyed by the group's smallest id; None = a new practice).

    A group takes the practice most of its members are in already (ties: the lower practice id). Two
    groups never share a practice: bigger claims go first, the loser gets a new one.
    """
    by_id = {m.id: m for m in members}
    claims: list[tuple[int, int, int]] = []  # (-members already there, practice id, group key)
    groups = group_members(members)
    for ids in groups:
        counts = Counter(by_id[i].practice_id for i in ids if by_id[i].practice_id is not None)
        claims.extend((-count, practice_id, ids[0]) for practice_id, count in counts.items())
    assignment: dict[int, int | None] = {ids[0]: None for ids in groups}
    taken: set[int] = set()
    for _count, practice_id, key in sorted(claims):
        if assignment[key] is None and practice_id not in taken:
            assignment[key] = practice_id
            taken.add(practice_id)
    return assignment


def most_common(values: Iterable[str | None]) -> str | None:
    """Return the most frequent non-empty value (ties: alphabetically first), or None."""
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def practice_moves(members: Sequence[Member]) -> tuple[dict[int, int | None], list[list[int]]]:
    """Return (therapist id -> target practice id or None for "new practice of its group", groups).

    Pinned members are left out of the moves; they only hold their group together.
    """
    groups = group_members(members)
    assignment = assign_practices(members)
    by_id = {m.id: m for m in members}
    moves: dict[int, int | None] = {}
    for ids in groups:
        target = assignment[ids[0]]
        for i in ids:
            if not by_id[i].pinned and (target is None or by_id[i].practice_id != target):
                moves[i] = target
    return moves, groups


def channel_for(emails: Iterable[str | None]) -> tuple[str, str | None]:
    """Return (contact channel, practice e-mail): e-mail if any member has one, else phone."""
    email = most_common(normalise_email(e) for e in emails)
    return ("email", email) if email else ("phone", None)
