"""The outbox relay against a real Kafka-protocol broker (tansu, started here): order, schemas, failures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.communication.inbound_models import InboundKind
from core.config import get_settings
from core.demo.service import seed
from core.events import relay
from core.events import service as events
from tests.support.kafka import Broker, consume_all

pytestmark = pytest.mark.slow
# every aggregate some event schema names: the consumer reads all their topics
AGGREGATES = sorted(
    {
        json.loads(path.read_text())["properties"]["aggregate_type"]["const"]
        for path in Path("core/events/schemas").glob("*.v1.json")
    }
)


@pytest.fixture
def broker(monkeypatch):
    server = Broker().start()
    monkeypatch.setenv("KAFKA_BOOTSTRAP", server.bootstrap)
    monkeypatch.setattr(relay, "FLUSH_TIMEOUT_SECONDS", 6.0)  # a down broker fails the run in seconds
    get_settings.cache_clear()
    yield server
    server.stop()
    monkeypatch.delenv("KAFKA_BOOTSTRAP")
    get_settings.cache_clear()


def topics() -> list[str]:
    return [relay.topic_for(aggregate) for aggregate in AGGREGATES]


def outbox(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM domain_event"))
        return tuple(row.one())


def all_ids(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM domain_event")).scalars())


def emit_many(engine, count: int, *, aggregates: int = 50) -> None:
    """``count`` valid patient.updated events over ``aggregates`` patients, set-based."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO domain_event (occurred_at, event_type, aggregate_type, aggregate_id, payload) "
            "SELECT now(), 'patient.updated', 'patient', (g % :aggregates)::text, '{\"fields\": [\"city\"]}'::jsonb "
            "FROM generate_series(1, :count) g ORDER BY g"
        ), {"count": count, "aggregates": aggregates})  # fmt: skip


def assert_in_order_per_key(messages: list[dict]) -> None:
    last: dict[tuple[str, str], int] = {}
    for message in sorted(messages, key=lambda m: (m["_topic"], m["_partition"], m["_offset"])):
        key = (message["_topic"], message["_key"])
        assert message["event_id"] > last.get(key, 0), f"{key}: {message['event_id']} after {last.get(key)}"
        last[key] = message["event_id"]


def test_relay__every_demo_event_arrives_in_order_per_key_on_its_aggregates_topic(committed_db, broker):
    with Session(committed_db) as session:
        seed(session, therapists=200, patients=40, seed=4, today=date(2026, 11, 30))
        session.commit()
    total, unpublished = outbox(committed_db)
    assert total > 100
    assert unpublished == total, "the demo claims nothing was published: only a relay publishes"
    report = relay.Relay(committed_db, batch_size=500).run_once()
    assert (report.published, report.held, report.failed) == (total, 0, 0), report.errors
    assert outbox(committed_db) == (total, 0)
    messages = consume_all(broker.bootstrap, topics(), expected=total)
    assert sorted(m["event_id"] for m in messages) == sorted(all_ids(committed_db))
    for message in messages:
        body = {k: v for k, v in message.items() if not k.startswith("_")}
        assert relay.problems(body) == []
        assert message["_topic"] == f"workbench.{message['aggregate_type']}"
        assert message["_key"] == message["aggregate_id"]
        assert message["_header_event_id"] == message["event_id"]
    assert_in_order_per_key(messages)
    assert {m["aggregate_type"] for m in messages} >= {"patient", "search", "inquiry"}  # what the demo records


def test_relay__a_broker_that_is_down_and_comes_back_loses_nothing_and_the_lag_shows(committed_db, broker):
    emit_many(committed_db, 300)
    first = consume_all  # the first broker's messages are read before it goes away (memory storage)
    assert relay.Relay(committed_db).run_once().published == 300
    before = first(broker.bootstrap, topics(), expected=300)
    broker.stop()
    emit_many(committed_db, 200)
    report = relay.Relay(committed_db).run_once()
    assert report.published == 0
    assert report.failed == 200
    with Session(committed_db) as session:
        lag = relay.lag(session)
    assert lag["enabled"] is True
    assert lag["unpublished"] == 200
    assert lag["oldest_at"] is not None
    broker.start()  # same address, empty storage
    report = relay.Relay(committed_db).run_once()
    assert (report.published, report.failed) == (200, 0), report.errors
    after = consume_all(broker.bootstrap, topics(), expected=200)
    assert {m["event_id"] for m in before} | {m["event_id"] for m in after} == all_ids(committed_db)
    assert_in_order_per_key(after)


def test_relay__killed_mid_batch_and_restarted_every_event_arrives_and_dedup_gives_exactly_once(
    committed_db, broker, repo_root
):
    emit_many(committed_db, 40_000, aggregates=200)
    env = {**os.environ, "KAFKA_BOOTSTRAP": broker.bootstrap}
    command = [sys.executable, "-m", "jobs.relay_events", "--follow", "--poll-seconds", "0.2"]
    first = subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while outbox(committed_db)[1] == 40_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    total, left = outbox(committed_db)
    assert 0 < left < total, "killed mid-run: some events published, some not"
    second = subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while outbox(committed_db)[1] and time.monotonic() < deadline:
        time.sleep(0.2)
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=60)
    assert outbox(committed_db) == (total, 0)
    messages = consume_all(broker.bootstrap, topics(), expected=total, timeout=120)
    seen: dict[int, int] = defaultdict(int)
    for message in messages:
        seen[message["event_id"]] += 1
    assert set(seen) == all_ids(committed_db), "every event at least once"
    deduplicated = {message["event_id"]: message for message in messages}
    assert len(deduplicated) == total, "dedup by event id: exactly once"
    assert_in_order_per_key(list(deduplicated.values()))


def test_relay__an_event_with_personal_data_is_held_with_its_aggregate_and_others_go_out(committed_db, broker):
    with Session(committed_db) as session:
        events.emit(session, "patient.updated", aggregate_type="patient", aggregate_id=1, payload={"fields": ["city"]})
        bad = events.emit(session, "patient.updated", aggregate_type="patient", aggregate_id=1,
                          payload={"fields": ["Erika Mustermann"]})  # fmt: skip
        events.emit(session, "patient.updated", aggregate_type="patient", aggregate_id=1, payload={"fields": ["zip"]})
        events.emit(session, "patient.updated", aggregate_type="patient", aggregate_id=2, payload={"fields": ["city"]})
        events.emit(session, "patient.tattooed", aggregate_type="patient", aggregate_id=3, payload={})
        session.commit()
        bad_id = bad.id
    report = relay.Relay(committed_db).run_once()
    assert report.published == 2  # patient 1's first event and patient 2's
    assert report.held == 3  # the bad one, patient 1's later one (order!), and the type without a schema
    assert any(f"event {bad_id} " in error for error in report.errors)
    assert "Mustermann" not in " ".join(report.errors), "the error names the path, never the value"
    assert any("no schema for event type patient.tattooed" in error for error in report.errors)
    messages = consume_all(broker.bootstrap, topics(), expected=2, timeout=60)
    assert sorted((m["aggregate_id"], m["payload"]["fields"][0]) for m in messages) == [("1", "city"), ("2", "city")]


def test_relay__off_without_kafka_bootstrap_says_so(committed_db, repo_root):
    env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP"}
    done = subprocess.run([sys.executable, "-m", "jobs.relay_events"], cwd=repo_root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "off (KAFKA_BOOTSTRAP unset)" in done.stdout


def test_schemas__every_event_type_the_code_emits_has_a_valid_schema():
    source = "\n".join(path.read_text() for path in Path("core").rglob("*.py"))
    literal = set(re.findall(r'emit\(\s*session,\s*"([a-z_]+\.[a-z_]+)"', source))
    assert len(literal) > 20
    dynamic = {f"inquiry.{s}" for s in ("approved", "queued", "sent", "reminded", "call_scheduled", "answered",
                                        "expired", "discarded")}  # fmt: skip
    dynamic |= {f"search.{s}" for s in ("paused", "active", "successful", "cancelled")}
    dynamic |= {f"therapist.{s}" for s in ("blocked", "unblocked", "deactivated", "reactivated")}
    dynamic |= {f"{kind}.location_updated" for kind in ("patient", "therapist", "practice")}
    dynamic |= {"email.sent", "email.dead", "email.review_sent", "email.review_queued"}
    dynamic |= {f"inbound_mail.{kind.value}" for kind in InboundKind}
    # every emit with a computed type must be listed above: a new one fails here until it is
    computed = re.findall(r'emit\(\s*session,\s*f"([^"]+)"', source)
    assert len(computed) == 7, f"a new computed event type: list its values above ({computed})"
    missing = (literal | dynamic) - set(relay.validators())
    assert missing == set(), f"add core/events/schemas/<type>.v1.json for {sorted(missing)}"
