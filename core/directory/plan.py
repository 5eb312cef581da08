"""Decide what an import does: new, changed (field by field), unchanged, conflicts, review items, vanished.

Pure: the therapists we hold come in as ``Held`` rows, the decision goes out as a ``Plan``; the service
writes it. The rules:
- an imported value replaces ours unless staff edited that field by hand (then it is a *conflict*: listed,
  not written) or the directory has no value for it (an import never blanks what we know);
- the *covered area* of an import is the set of 5-digit postcodes of its accepted entries; a listed
  therapist there who is missing is "not seen since" the import's day, and after ``VANISH_AFTER`` covering
  imports in a row without them becomes inactive for matching, with the reason; seen again, they come back.
  Imports on the same day count once (importing the same file twice is no new evidence, and changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.directory.entries import IMPORTED_FIELDS, Entry
from core.directory.identity import Index, Known

VANISH_AFTER = 2  # covering imports in a row without a therapist before they stop being proposed (issue 14)
INACTIVE_REASON = "Seit {since} nicht mehr im 116117-Verzeichnis ({count} Importe ohne Eintrag)"
RETURN_REASON = "Wieder im 116117-Verzeichnis"


@dataclass(frozen=True)
class Held:
    """A therapist we hold, as the import sees them."""

    id: int
    external_id: str | None
    values: dict[str, Any]  # IMPORTED_FIELDS -> current value
    staff_edited: frozenset[str]
    status: str
    listed: bool  # has a directory listing (came from or was matched by an import)
    missed_imports: int = 0
    not_seen_since: date | None = None
    deactivated_by_import: bool = False

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.values.get("title"), self.values["first_name"], self.values["last_name"]) if p)


@dataclass
class Update:
    therapist_id: int
    entry: Entry
    changes: dict[str, tuple[Any, Any]]  # field -> (ours, imported)
    conflicts: dict[str, tuple[Any, Any]]  # field staff edited -> (kept, imported)
    link_id: bool  # matched on name + address: the directory id is linked now
    comes_back: bool  # was made inactive by imports and is seen again
    current: dict[str, Any] = field(default_factory=dict)  # our values before the import

    def written(self) -> dict[str, Any]:
        """The values the therapist has after the import: ours, with the changes (never the conflicts)."""
        return {**self.current, **{name: new for name, (_, new) in self.changes.items()}}


@dataclass(frozen=True)
class Review:
    therapist_id: int
    entry: Entry
    differs: str


@dataclass(frozen=True)
class Vanish:
    therapist_id: int
    name: str
    postcode: str | None
    not_seen_since: date
    missed_imports: int  # after this import
    goes_inactive: bool
    newly_missed: bool  # this import counts as one more without them (one per day: a re-import is no new evidence)


@dataclass
class Plan:
    new: list[Entry] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)  # every matched entry, changed or not
    reviews: list[Review] = field(default_factory=list)
    vanished: list[Vanish] = field(default_factory=list)
    covered_postcodes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[Update]:
        return [u for u in self.updates if u.changes or u.link_id or u.comes_back]

    @property
    def unchanged(self) -> list[Update]:
        return [u for u in self.updates if not (u.changes or u.link_id or u.comes_back)]

    @property
    def change_count(self) -> int:
        """What "0 changes" means: nothing new, changed, back, or newly vanished."""
        return len(self.new) + len(self.changed) + len([v for v in self.vanished if v.newly_missed])


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def compare(ours: Held, entry: Entry) -> tuple[dict[str, tuple[Any, Any]], dict[str, tuple[Any, Any]]]:
    """Return (changes, conflicts), each field -> (ours, imported): what the entry changes and what staff keep."""
    changes: dict[str, tuple[Any, Any]] = {}
    conflicts: dict[str, tuple[Any, Any]] = {}
    for name in IMPORTED_FIELDS:
        current, imported = ours.values.get(name), entry.values[name]
        if current == imported or _empty(imported):
            continue
        (conflicts if name in ours.staff_edited else changes)[name] = (current, imported)
    return changes, conflicts


def build(entries: Iterable[Entry], held: Iterable[Held], *, today: date) -> Plan:
    """Return what importing ``entries`` does to the therapists ``held`` (all in the covered area or by id)."""
    entries = list(entries)
    held_by_id = {h.id: h for h in held}
    index = Index(
        Known(h.id, h.external_id, h.values["first_name"], h.values["last_name"], h.values.get("postcode"),
              h.values.get("street"))
        for h in held_by_id.values()
    )  # fmt: skip
    plan = Plan(covered_postcodes=sorted({e.values["postcode"] for e in entries}))
    seen: set[int] = set()
    for entry in entries:
        v = entry.values
        match = index.match(external_id=entry.external_id, first_name=v["first_name"], last_name=v["last_name"],
                            postcode=v["postcode"], street=v["street"])  # fmt: skip
        if match.kind == "new" or match.therapist_id in seen:
            plan.new.append(entry)
            continue
        seen.add(match.therapist_id)
        ours = held_by_id[match.therapist_id]
        if match.kind == "uncertain":
            plan.reviews.append(Review(ours.id, entry, match.differs or ""))
            continue
        changes, conflicts = compare(ours, entry)
        link = bool(entry.external_id) and ours.external_id != entry.external_id
        comes_back = ours.deactivated_by_import and ours.status == "inactive"
        plan.updates.append(Update(ours.id, entry, changes, conflicts, link, comes_back, dict(ours.values)))
    covered = set(plan.covered_postcodes)
    for ours in held_by_id.values():
        if ours.id in seen or not ours.listed or ours.values.get("postcode") not in covered:
            continue
        newly = ours.missed_imports == 0 or ours.not_seen_since is None or today > ours.not_seen_since
        missed = ours.missed_imports + (1 if newly else 0)
        plan.vanished.append(Vanish(
            therapist_id=ours.id, name=ours.name, postcode=ours.values.get("postcode"),
            not_seen_since=ours.not_seen_since or today, missed_imports=missed,
            goes_inactive=newly and missed >= VANISH_AFTER and ours.status == "active", newly_missed=newly,
        ))  # fmt: skip
    return plan
