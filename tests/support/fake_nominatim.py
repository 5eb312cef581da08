"""A small local HTTP server that speaks Nominatim's ``/search`` JSON, for tests of the geocoding chain.

What it answers is scripted per street (the ``street`` parameter of a structured query, lower case): a
list of responses played in order, the last one repeating. Unscripted streets are found at ``default``.

    with FakeNominatim() as server:
        server.script("invalidenstr. 116", status(429, retry_after=1), found(52.5310, 13.3849))
        ...  NOMINATIM_URL = server.url
        server.arrivals()          # monotonic arrival times of every request, to check the rate limit

Every request is recorded (arrival time, path, query parameters, User-Agent).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: str = "[]"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)


def found(lat: float, lon: float, *, place_rank: int = 30, name: str = "Testhaus") -> Response:
    """A hit as Nominatim's format=json gives it (coordinates as strings)."""
    hit = {
        "place_id": 1234567,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright",
        "osm_type": "node",
        "osm_id": 987654321,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "class": "building" if place_rank >= 30 else "place",
        "type": "house" if place_rank >= 30 else "city",
        "place_rank": place_rank,
        "importance": 0.00001,
        "addresstype": "building" if place_rank >= 30 else "city",
        "name": name,
        "display_name": f"{name}, Deutschland",
        "boundingbox": [f"{lat - 0.0001:.7f}", f"{lat + 0.0001:.7f}", f"{lon - 0.0001:.7f}", f"{lon + 0.0001:.7f}"],
    }
    return Response(body=json.dumps([hit]))


def empty() -> Response:
    """Nominatim's answer for an address it does not know."""
    return Response(body="[]")


def status(code: int, *, retry_after: float | None = None) -> Response:
    """An HTTP error, e.g. 429 (with Retry-After) or 500."""
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
    return Response(status=code, body=json.dumps({"error": f"HTTP {code}"}), headers=headers)


def slow(seconds: float, then: Response | None = None) -> Response:
    """Answer only after ``seconds`` (longer than the client's timeout: a timeout)."""
    then = then or empty()
    return Response(status=then.status, body=then.body, headers=then.headers, delay=seconds)


def malformed() -> Response:
    """A 200 whose body is not JSON (a proxy's error page, a truncated answer)."""
    return Response(body='[{"lat": "52.5", "lon": ')


@dataclass(frozen=True)
class Request:
    arrived: float  # time.monotonic() in the test process
    path: str
    params: dict[str, str]
    user_agent: str


class FakeNominatim:
    """A threaded HTTP server on 127.0.0.1 answering /search like Nominatim."""

    def __init__(self, default: Response | None = None) -> None:
        self.default = default or found(52.5310, 13.3849)
        self.scripts: dict[str, list[Response]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                response = fake._record(Request(time.monotonic(), parts.path, params, self.headers["User-Agent"]))
                if response.delay:
                    time.sleep(response.delay)
                body = response.body.encode()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly what a slow answer is for

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, street: str, *responses: Response) -> None:
        """Answer requests for ``street`` with ``responses`` in order (the last one repeats)."""
        with self.lock:
            self.scripts[street.lower()] = list(responses)

    def _record(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            queue = self.scripts.get(request.params.get("street", "").lower())
            if not queue:
                return self.default
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def arrivals(self) -> list[float]:
        with self.lock:
            return sorted(r.arrived for r in self.requests)

    def smallest_gap(self) -> float:
        """Return the shortest time between two requests (infinity with fewer than two)."""
        times = self.arrivals()
        return min((b - a for a, b in itertools.pairwise(times)), default=float("inf"))

    def __enter__(self) -> FakeNominatim:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
