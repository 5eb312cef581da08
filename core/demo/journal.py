"""Audit events and domain events of the demo history, in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.demo.markers import DEMO_ACTOR
from core.demo.refs import Ref

Row = dict[str, Any]


@dataclass
class Journal:
    """Collects audit and domain events while the history runs."""

    audits: list[tuple[datetime, int, Row]] = field(default_factory=list)
    events: list[tuple[datetime, int, Row]] = field(default_factory=list)

    def audit(
        self,
        at: datetime,
        action: str,
        *,
        entity: Ref | None = None,
        details: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Record that something was done (by staff, notionally; the actor says the seed made it up)."""
        self.audits.append(
            (
                at,
                len(self.audits),
                {
                    "occurred_at": at,
                    "actor": DEMO_ACTOR,
                    "actor_id": None,
                    "action": action,
                    "entity_type": entity.table if entity else None,
                    "entity_id": Ref(entity.table, entity.key, as_text=True) if entity else None,
                    "details": details or {},
                    "reason": reason,
                },
            )
        )

    def event(self, at: datetime, event_type: str, *, aggregate: Ref, payload: dict[str, Any]) -> None:
        """Record a domain event; its payload carries ids and codes, never names."""
        self.events.append(
            (
                at,
                len(self.events),
                {
                    "occurred_at": at,
                    "event_type": event_type,
                    "aggregate_type": aggregate.table,
                    "aggregate_id": Ref(aggregate.table, aggregate.key, as_text=True),
                    "payload": {"origin": DEMO_ACTOR, **payload},
                    "published_at": None,
                },
            )
        )

    def rows(self, now: datetime) -> tuple[list[Row], list[Row]]:
        """Return (audit_event rows, domain_event rows), oldest first."""
        audits = [{"id": key, **row} for key, (_, _, row) in enumerate(sorted(self.audits, key=_order), start=1)]
        events = []
        for key, (_at, _, row) in enumerate(sorted(self.events, key=_order), start=1):
            events.append({"id": key, **row})  # unpublished: only a real relay (jobs.relay_events) publishes
        return audits, events


def _order(entry: tuple[datetime, int, Row]) -> tuple[datetime, int]:
    return entry[0], entry[1]
