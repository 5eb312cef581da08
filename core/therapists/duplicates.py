"""Spot a therapist who may already be on file: same name and PLZ, same e-mail, or same phone.

A create that finds candidates raises PossibleDuplicate (nothing is written); the page shows the
candidates and saves only when staff confirm ("trotzdem anlegen": ``allow_duplicate=True``).
Colleagues in one practice often share the practice's e-mail and phone, so a match is a question to
staff, never a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.messages import Message
from core.therapists.models import Therapist

MAX_CANDIDATES = 10  # more than this on one screen helps nobody decide


@dataclass(frozen=True)
class DuplicateCandidate:
    id: int
    name: str
    postcode: str | None
    city: str | None
    status: str
    reasons: tuple[str, ...]  # "name_postcode", "email", "phone"


class PossibleDuplicate(ValidationError):
    """The new therapist looks like existing ones; save again with ``allow_duplicate=True`` to proceed."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        listed = ", ".join(f"#{c.id} {c.name} ({' + '.join(c.reasons)})" for c in candidates)
        super().__init__(
            Message(
                "duplicate.therapist",
                "This therapist may already exist: {listed}. Open them to check, or confirm to create a new record",
                listed=listed,
            ),
            field="duplicate",
        )
        self.candidates = candidates


def display_name(title: str | None, first_name: str, last_name: str) -> str:
    """Return 'Dr. Anna Schmidt' (title only when there is one)."""
    return " ".join(part for part in (title, first_name, last_name) if part)


def find_duplicates(
    session: Session,
    *,
    first_name: str,
    last_name: str,
    postcode: str | None,
    email: str | None,
    phone: str | None,
    exclude_id: int | None = None,
) -> list[DuplicateCandidate]:
    """Return existing therapists that match by name + PLZ, e-mail (case-insensitive) or phone (E.164)."""
    tests = {
        "name_postcode": and_(
            func.lower(Therapist.last_name) == last_name.strip().lower(),
            func.lower(Therapist.first_name) == first_name.strip().lower(),
            Therapist.postcode == postcode,
        )
    }
    if email:
        tests["email"] = func.lower(Therapist.email) == email.strip().lower()
    if phone:
        tests["phone"] = Therapist.phone == phone
    query = (
        select(Therapist, *(test.label(reason) for reason, test in tests.items()))
        .where(or_(*tests.values()))
        .order_by(Therapist.id)
        .limit(MAX_CANDIDATES)
    )
    if exclude_id is not None:
        query = query.where(Therapist.id != exclude_id)
    found = []
    for row in session.execute(query):
        therapist = row[0]
        found.append(
            DuplicateCandidate(
                id=therapist.id,
                name=display_name(therapist.title, therapist.first_name, therapist.last_name),
                postcode=therapist.postcode,
                city=therapist.city,
                status=therapist.status.value,
                reasons=tuple(reason for reason in tests if row._mapping[reason]),
            )
        )
    return found
