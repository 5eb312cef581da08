"""Benchmark: the event relay's throughput to a real Kafka-protocol broker (events per second), against a raw
confluent-kafka producer sending the very same messages without a database. Target: at least 5,000 events/s.

Timed region of the relay: the whole drain a user waits for (select the outbox in batches, validate every
message against its JSON Schema, produce, wait for the broker's acknowledgements, mark published). The
baseline builds the same messages in advance and only produces and flushes them (same producer settings).
Correctness is asserted (every event arrives, the outbox is empty), times are not.
"""

from __future__ import annotations

import json
import os
import time

from sqlalchemy import text

from core.config import get_settings
from core.events import relay
from tests.support.kafka import Broker, consume_all

EVENTS = 50_000


def test_bench__relay_throughput_against_a_raw_producer(committed_db):
    from confluent_kafka import Producer

    broker = Broker().start()
    saved = os.environ.get("KAFKA_BOOTSTRAP")
    os.environ["KAFKA_BOOTSTRAP"] = broker.bootstrap
    get_settings.cache_clear()
    try:
        with committed_db.begin() as conn:
            conn.execute(text(
                "INSERT INTO domain_event (occurred_at, event_type, aggregate_type, aggregate_id, payload) "
                "SELECT now(), 'search.started', 'search', (g % 5000)::text, "
                "jsonb_build_object('patient_id', g, 'started_on', '2026-12-01') FROM generate_series(1, :n) g"
            ), {"n": EVENTS})  # fmt: skip
            rows = conn.execute(text(
                "SELECT id, occurred_at, event_type, aggregate_type, aggregate_id, payload "
                "FROM domain_event ORDER BY id"
            )).all()  # fmt: skip
        messages = [relay.envelope(row) for row in rows]

        producer = Producer(relay.producer_config(get_settings()))
        baseline_topic = "bench.baseline"
        started = time.perf_counter()
        for message in messages:
            while True:
                try:
                    producer.produce(baseline_topic, key=message["aggregate_id"].encode(),
                                     value=json.dumps(message, separators=(",", ":")).encode())  # fmt: skip
                    break
                except BufferError:
                    producer.poll(0.5)
        assert producer.flush(60) == 0
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        report = relay.Relay(committed_db).run_once()
        elapsed = time.perf_counter() - started
        assert (report.published, report.held, report.failed) == (EVENTS, 0, 0), report.errors
        with committed_db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM domain_event WHERE published_at IS NULL")).scalar() == 0
        arrived = consume_all(broker.bootstrap, [relay.topic_for("search")], expected=EVENTS, timeout=180)
        assert len({m["event_id"] for m in arrived}) == EVENTS
    finally:
        broker.stop()
        if saved is None:
            os.environ.pop("KAFKA_BOOTSTRAP", None)
        else:
            os.environ["KAFKA_BOOTSTRAP"] = saved
        get_settings.cache_clear()
    rate, baseline_rate = EVENTS / elapsed, EVENTS / baseline
    print(f"\nrelay: {EVENTS:,} events in {elapsed:.2f} s = {rate:,.0f} events/s (target >= 5,000/s); "
          f"raw producer baseline {baseline:.2f} s = {baseline_rate:,.0f} events/s; "
          f"relay / baseline = {rate / baseline_rate:.2f}")  # fmt: skip
