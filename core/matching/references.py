"""Inquiry references such as 'A-2026-000123': unique, never reused, safe under concurrent runs.

The number comes from the sequence ``inquiry_reference_seq`` (migration 0004), so references of replaced
proposals are never handed out again. Rows written without the sequence (the demo data numbers its own
inquiries) are respected: before drawing, the sequence is moved past the highest number in use, under a
transaction-level advisory lock so that two writers never race between that check and the draw.

Example: ``allocate(session, count=2, year=2026)`` -> ``["A-2026-000124", "A-2026-000125"]``
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

LOCK_KEY = 7_244_005  # advisory lock: "inquiry references and stored proposals"
SEQUENCE = "inquiry_reference_seq"


def lock(session: Session) -> None:
    """Serialise writers of references and proposals until the caller's transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def format_reference(year: int, number: int) -> str:
    """Return the reference for ``number`` drawn in ``year``: ``format_reference(2026, 123)`` -> 'A-2026-000123'."""
    return f"A-{year}-{number:06d}"


def allocate(session: Session, *, count: int, year: int) -> list[str]:
    """Return ``count`` fresh references for ``year`` (no row is written; the caller stores them)."""
    if count <= 0:
        return []
    lock(session)
    highest = session.scalar(
        text(r"SELECT max(split_part(reference, '-', 3)::bigint) FROM inquiry WHERE reference ~ '^A-\d{4}-\d+$'")
    )
    if highest:
        # the next nextval() would return last_value (+1 once called); move on if that number is taken
        session.execute(
            text(
                f"SELECT setval('{SEQUENCE}', :highest) FROM {SEQUENCE} "  # noqa: S608 - SEQUENCE is a constant
                "WHERE :highest >= CASE WHEN is_called THEN last_value + 1 ELSE last_value END"
            ),
            {"highest": highest},
        )
    numbers = session.scalars(
        text(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, :count)"),  # noqa: S608 - constant name
        {"count": count},
    ).all()
    return [format_reference(year, n) for n in numbers]
