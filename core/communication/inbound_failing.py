"""Which recipient addresses bounce: inquiries to them go to the phone instead (read by dispatch and followup).

A module of its own because the outbox and the ladder need it and the inbound filing imports them.
Example: ``failing_addresses(session, {"praxis@example.org"})`` -> ``{"praxis@example.org"}`` after a bounce.
"""

from __future__ import annotations

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.communication.inbound_models import FailingAddress


def failing_addresses(session: Session, addresses: set[str | None]) -> set[str]:
    """Return which of ``addresses`` (any case) are known to bounce and not cleared, in lower case."""
    wanted = {a.strip().lower() for a in addresses if a}
    if not wanted:
        return set()
    # one array parameter: the follow-up job asks for thousands of addresses at once
    wanted_array = any_(bindparam(None, sorted(wanted), type_=ARRAY(String)))
    return set(session.scalars(select(FailingAddress.address).where(FailingAddress.address == wanted_array,
                                                                   FailingAddress.cleared_at.is_(None))))  # fmt: skip
