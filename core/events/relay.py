"""The outbox relay: publishes ``domain_event`` rows to Kafka, at least once, in order per aggregate.

Off unless KAFKA_BOOTSTRAP is set. Each event becomes one message on the topic of its aggregate
(``KAFKA_TOPIC_PREFIX.patient``, ``.search``, ``.inquiry``, ``.therapist``, ``.email``, and the other
aggregates the code emits), keyed by the aggregate id, so that Kafka keeps each aggregate's events in order
(one key -> one partition). The message is a JSON envelope::

    {"event_id": 4711, "event_type": "search.started", "schema_version": 1, "aggregate_type": "search",
     "aggregate_id": "12", "occurred_at": "2026-12-01T08:00:00+00:00", "payload": {"patient_id": 4, ...}}

with the event id also in the ``event_id`` header, so consumers drop duplicates. Before it is sent, every
message is validated against the JSON Schema of its event type (``core/events/schemas/<type>.v1.json``,
versioned in the repository). The schemas admit ids, states and timestamps only: a payload with anything
else (a name, free text) or an event type without a schema is not sent. It stays in the outbox, holds back
the later events of its aggregate (their order must not break), is counted as lag and named in the log by
its id; fixing the schema (or the emitting code) lets it and its successors go out on the next run.

Delivery: the producer is idempotent with ``acks=all``; a row gets ``published_at`` only after the broker
acknowledged its message. A relay killed between the acknowledgement and that update sends the message
again on its next run (at least once); consumers deduplicate by event id. Batches are taken with
``FOR UPDATE SKIP LOCKED`` inside a transaction-scoped advisory lock, so two relays never send the same
batch at once and the lock never outlives a transaction (PgBouncer transaction pooling keeps working).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastjsonschema
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.errors import JobError

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_VERSION = 1
RELAY_LOCK = 0x52454C41  # "RELA": one relay sends at a time (transaction-scoped advisory lock)
BATCH_SIZE = 5000
FLUSH_TIMEOUT_SECONDS = 30.0
_log = logging.getLogger(__name__)


@dataclass
class RelayReport:
    published: int = 0
    held: int = 0  # not sent: invalid, no schema, or behind such an event of the same aggregate
    failed: int = 0  # sent but not acknowledged (broker down): stay in the outbox for the next run
    batches: int = 0
    topics: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {"published": self.published, "held": self.held, "failed": self.failed, "batches": self.batches,
                "errors": self.errors[:10]}  # fmt: skip


@functools.cache
def validators() -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Every event type's compiled validator, from core/events/schemas/<type>.v1.json (JSON Schema draft-07).

    fastjsonschema compiles each schema to Python once: validating is ~30x faster than interpreting it,
    which is what lets the relay keep up with thousands of events per second.
    """
    found = {}
    for path in sorted(SCHEMA_DIR.glob(f"*.v{SCHEMA_VERSION}.json")):
        found[path.name.removesuffix(f".v{SCHEMA_VERSION}.json")] = fastjsonschema.compile(json.loads(path.read_text()))
    return found


def topic_for(aggregate_type: str, settings: Settings | None = None) -> str:
    return f"{(settings or get_settings()).kafka_topic_prefix}.{aggregate_type}"


def envelope(row: Any) -> dict[str, Any]:
    """The message for one domain_event row (id, occurred_at, event_type, aggregate_type, aggregate_id, payload)."""
    return {
        "event_id": row.id,
        "event_type": row.event_type,
        "schema_version": SCHEMA_VERSION,
        "aggregate_type": row.aggregate_type,
        "aggregate_id": row.aggregate_id,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "payload": row.payload or {},
    }


def problems(message: dict[str, Any]) -> list[str]:
    """Why ``message`` may not be sent (empty: it may). Names the schema path and rule, never the value."""
    validator = validators().get(message["event_type"])
    if validator is None:
        return [f"no schema for event type {message['event_type']} (add core/events/schemas/<type>.v1.json)"]
    try:
        validator(message)
    except fastjsonschema.JsonSchemaValueException as error:
        return [f"{'/'.join(str(part) for part in error.path[1:]) or '(message)'}: {error.rule} failed"]
    return []


def lag(session: Session) -> dict[str, Any]:
    """The relay lag for the status page: unpublished events, the oldest one's time, and whether it is on."""
    row = session.execute(
        text("SELECT count(*), min(occurred_at) FROM domain_event WHERE published_at IS NULL")
    ).one()  # fmt: skip
    return {"enabled": bool(get_settings().kafka_bootstrap), "unpublished": row[0], "oldest_at": row[1]}


def producer_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,  # with acks=all: no duplicates from retries, order kept per partition
        "acks": "all",
        "linger.ms": 20,
        "batch.num.messages": 10000,
        "message.timeout.ms": int(FLUSH_TIMEOUT_SECONDS * 1000 * 0.8),
        "client.id": "placement-workbench-relay",
    }


class Relay:
    """Publishes the outbox. ``run_once`` drains what is there now; ``follow`` keeps doing so."""

    def __init__(self, engine: Engine, *, settings: Settings | None = None, batch_size: int = BATCH_SIZE) -> None:
        from confluent_kafka import Producer

        self.engine = engine
        self.settings = settings or get_settings()
        if not self.settings.kafka_bootstrap:
            raise JobError("KAFKA_BOOTSTRAP is not set: the event relay is off (set it to the broker's host:port)")
        self.batch_size = batch_size
        self.producer = Producer(producer_config(self.settings))
        self._known_topics: set[str] = set()

    def run_once(self, *, max_batches: int | None = None) -> RelayReport:
        report = RelayReport()
        while max_batches is None or report.batches < max_batches:
            with self.engine.begin() as conn:
                if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK}).scalar():
                    report.errors.append("another relay is publishing; this run sent nothing")
                    break
                before = report.published
                taken = self._batch(conn, report)
            report.batches += 1
            if taken < self.batch_size or report.failed or report.published == before:
                break  # drained, broker trouble, or only held events left
        return report

    def follow(self, *, poll_seconds: float = 1.0, stop: Any = None) -> RelayReport:
        """Publish until ``stop()`` returns True, waiting ``poll_seconds`` when the outbox is empty."""
        total = RelayReport()
        while not (stop and stop()):
            report = self.run_once()
            total.published += report.published
            total.failed += report.failed
            total.batches += report.batches
            total.held = report.held
            if report.published == 0:
                time.sleep(poll_seconds)
        return total

    def _batch(self, conn: Connection, report: RelayReport) -> int:
        rows = conn.execute(
            text(
                "SELECT id, occurred_at, event_type, aggregate_type, aggregate_id, payload FROM domain_event "
                "WHERE published_at IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
            ),
            {"limit": self.batch_size},
        ).all()
        if not rows:
            return 0
        held_keys: set[tuple[str, str]] = set()
        sendable = []
        for row in rows:
            key = (row.aggregate_type, row.aggregate_id)
            if key in held_keys:
                report.held += 1
                continue
            message = envelope(row)
            wrong = problems(message)
            if wrong:
                held_keys.add(key)
                report.held += 1
                report.errors.append(f"event {row.id} ({row.event_type}) held: {'; '.join(wrong)}")
                _log.error("event %s (%s) not sent: %s", row.id, row.event_type, "; ".join(wrong))
                continue
            sendable.append(message)
        acknowledged = self._send(sendable, report)
        if acknowledged:
            conn.execute(
                text("UPDATE domain_event SET published_at = now() WHERE id = ANY(:ids)"), {"ids": acknowledged}
            )
        report.published += len(acknowledged)
        return len(rows)

    def _send(self, messages: list[dict[str, Any]], report: RelayReport) -> list[int]:
        from confluent_kafka import KafkaException

        self._ensure_topics({message["aggregate_type"] for message in messages}, report)
        acknowledged: list[int] = []
        failures: list[str] = []

        def delivered(event_id: int, error: Any, _message: Any) -> None:
            if error is None:
                acknowledged.append(event_id)
            else:
                failures.append(str(error))

        for message in messages:
            while True:
                try:
                    self.producer.produce(
                        topic_for(message["aggregate_type"], self.settings),
                        key=message["aggregate_id"].encode(),
                        value=json.dumps(message, separators=(",", ":")).encode(),
                        headers=[
                            ("event_id", str(message["event_id"]).encode()),
                            ("event_type", message["event_type"].encode()),
                            ("schema_version", str(SCHEMA_VERSION).encode()),
                        ],
                        on_delivery=functools.partial(delivered, message["event_id"]),
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry this message
                    self.producer.poll(0.5)
                except KafkaException as exc:
                    failures.append(str(exc))
                    break
        remaining = self.producer.flush(FLUSH_TIMEOUT_SECONDS)
        report.failed += len(messages) - len(acknowledged)
        if failures or remaining:
            report.errors.append(f"broker did not acknowledge {len(messages) - len(acknowledged)} events: "
                                 f"{failures[0] if failures else 'timeout'}")  # fmt: skip
            self._known_topics.clear()  # a broker that came back may have lost them (memory storage)
        return acknowledged

    def _ensure_topics(self, aggregates: Iterable[str], report: RelayReport) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        wanted = {topic_for(aggregate, self.settings) for aggregate in aggregates} - self._known_topics
        if not wanted:
            return
        admin = AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap})
        try:
            existing = set(admin.list_topics(timeout=10).topics)
        except Exception as exc:
            report.errors.append(f"broker unreachable: {exc}")
            return
        missing = sorted(wanted - existing)
        if missing:
            futures = admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1) for name in missing])
            for name, future in futures.items():
                try:
                    future.result(timeout=10)
                except Exception as exc:
                    if "TOPIC_ALREADY_EXISTS" not in str(exc):
                        report.errors.append(f"topic {name} could not be created: {exc}")
        self._known_topics |= wanted
        report.topics |= wanted


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The scheduled job: drain the outbox once (a no-op saying so when KAFKA_BOOTSTRAP is unset)."""
    settings = get_settings()
    if not settings.kafka_bootstrap:
        return {"enabled": False, **lag(session)}
    if dry_run:
        return {"enabled": True, **lag(session)}
    report = Relay(session.get_bind().engine, settings=settings).run_once()
    if report.failed:
        raise JobError(f"{report.failed} events were not acknowledged by the broker: {report.errors[-1]}")
    return {"enabled": True, **report.counts()}
