"""Who is who: match a directory entry to a therapist we hold. Pure (no session).

Rules, in order:
1. the directory id (``external_id``) -> the same therapist, whatever else changed;
2. normalised name + postcode + street all equal -> the same therapist (the id is then linked);
3. exactly one of name, postcode, street differs -> *uncertain*: a review item for staff, never merged;
4. otherwise a new therapist.

Example: ``name_key("Dr. Anna-Lena", "Müller ")`` -> ``"anna lena|mueller"``
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_STREET_WORDS = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in ((r"stra(ss|ß)e\b", "str"), (r"str\.", "str"), (r"\bstr\b", "str"))
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Keys are asked for every therapist we hold and every entry (twice: the index and the match): remembered.
_KEYS_REMEMBERED = 200_000


@functools.lru_cache(maxsize=_KEYS_REMEMBERED)
def _fold(text: str | None) -> str:
    text = (text or "").lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


def name_key(first_name: str | None, last_name: str | None) -> str:
    return f"{_fold(first_name)}|{_fold(last_name)}"


@functools.lru_cache(maxsize=_KEYS_REMEMBERED)
def street_key(street: str | None) -> str:
    text = (street or "").lower().translate(_UMLAUTS)
    for pattern, replacement in _STREET_WORDS:
        text = pattern.sub(replacement, text)
    return _NOT_ALNUM.sub("", text)


@dataclass(frozen=True)
class Known:
    """The identity columns of one therapist we hold."""

    id: int
    external_id: str | None
    first_name: str
    last_name: str
    postcode: str | None
    street: str | None


@dataclass(frozen=True)
class Match:
    kind: str  # "id", "key", "uncertain", "new"
    therapist_id: int | None = None
    differs: str | None = None  # for "uncertain": name, postcode or street


class Index:
    """Look-ups over the therapists we hold, built once per import."""

    def __init__(self, known: Iterable[Known]) -> None:
        self.by_id: dict[str, int] = {}
        self.by_key: dict[tuple[str, str, str], int] = {}
        self.by_name_postcode: dict[tuple[str, str], int] = {}
        self.by_name_street: dict[tuple[str, str], int] = {}
        self.by_place: dict[tuple[str, str, str], int] = {}  # surname, postcode, street: the first name differs
        for row in known:
            if row.external_id:
                self.by_id[row.external_id] = row.id
            name, street, postcode = name_key(row.first_name, row.last_name), street_key(row.street), row.postcode or ""
            self.by_key.setdefault((name, postcode, street), row.id)
            self.by_name_postcode.setdefault((name, postcode), row.id)
            self.by_name_street.setdefault((name, street), row.id)
            self.by_place.setdefault((_fold(row.last_name), postcode, street), row.id)

    def match(self, *, external_id: str | None, first_name: str, last_name: str, postcode: str,
              street: str | None) -> Match:  # fmt: skip
        if external_id and external_id in self.by_id:
            return Match("id", self.by_id[external_id])
        name, street_k = name_key(first_name, last_name), street_key(street)
        exact = self.by_key.get((name, postcode, street_k))
        if exact is not None:
            return Match("key", exact)
        for differs, found in (
            ("street", self.by_name_postcode.get((name, postcode))),
            ("postcode", self.by_name_street.get((name, street_k)) if street_k else None),
            ("name", self.by_place.get((_fold(last_name), postcode, street_k)) if street_k else None),
        ):
            if found is not None:
                return Match("uncertain", found, differs)
        return Match("new")
