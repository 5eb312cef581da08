"""Which recipient addresses bounce: inquiries to them go to the phone instead (read by dispatch and followup).

A module of its own because the outbox and the ladder need it and the inbound filing imports them.
Example: ``failing_addresses(session, {"praxis@example.org"})`` -> ``{"praxis@example.org"}`` after a bounce.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication.inbound_models import FailingAddress


def failing_addresses(session: Session, addresses: set[str | None]) -> set[str]:
    """Return which of ``addresses`` (any case) are known to bounce and not cleared, in lower case."""
    wanted = {a.strip().lower() for a in addresses if a}
    if not wanted:
        return set()
    return set(session.scalars(select(FailingAddress.address).where(FailingAddress.address.in_(wanted),
                                                                   FailingAddress.cleared_at.is_(None))))  # fmt: skip
