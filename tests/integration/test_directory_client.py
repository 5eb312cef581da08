"""The live 116117 client against a local fake of the search's JSON API (a real HTTP server in a thread).

The fake answers each POST with the next scripted reply and records when (on the test's clock) it came.
The client's sleep advances that clock instead of waiting, so the 3 s spacing and the backoff are exact.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.config import load_settings
from core.directory_client import MIN_INTERVAL, DirectoryClient
from core.errors import ConfigError, JobError

ON = load_settings(directory_live_enabled=True)


def answer(*names: str, more: bool = False) -> tuple[int, dict[str, str], bytes]:
    """A search answer in the API's format: one entry per surname."""
    entries = [{"id": f"id-{name}", "name": name, "vorname": "Eva", "plz": "10115", "ort": "Berlin",
                "lat": 52.53, "lon": 13.38, "distance": 850, "psy": [], "tsz": []} for name in names]  # fmt: skip
    body = json.dumps({"arztPraxisDatas": entries, "moreResults": more}).encode()
    return 200, {"Content-Type": "application/json;charset=UTF-8"}, body


def status(code: int, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return code, {"Content-Type": "application/json", **(headers or {})}, b'{"error": "busy"}'


CAPTCHA = (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Bitte bestaetigen Sie ...</body></html>")


class Clock:
    """The test's time: stands still until the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    """A fake search API on a free port: ``fake.replies`` is the script, ``fake.requests`` what arrived."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            query = json.loads(self.rfile.read(length))
            agent, auth = self.headers.get("User-Agent"), self.headers.get("Authorization")
            server.requests.append({"at": clock(), "query": query, "agent": agent, "auth": auth})
            code, headers, body = server.replies.pop(0)
            self.send_response(code)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.replies, server.requests = [], []
    server.url = f"http://127.0.0.1:{server.server_port}/api/data"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(fake, clock) -> DirectoryClient:
    return DirectoryClient(settings=ON, url=fake.url, clock=clock, sleep=clock.sleep)


def gaps(fake) -> list[float]:
    times = [request["at"] for request in fake.requests]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_fetch_all__returns_each_answer_as_raw_json_at_least_3_s_apart(fake, clock):
    fake.replies = [answer("Adler", "Berg"), answer("Claus", more=True), answer()]
    queries = [{"lat": 52.52, "lon": 13.40, "r": r} for r in (1, 2, 3)]
    answers = list(client_for(fake, clock).fetch_all(queries))
    assert [[e["name"] for e in a["arztPraxisDatas"]] for a in answers] == [["Adler", "Berg"], ["Claus"], []]
    assert [a["moreResults"] for a in answers] == [False, True, False]
    assert [r["query"] for r in fake.requests] == queries  # the query goes out as it is
    assert gaps(fake) == [MIN_INTERVAL, MIN_INTERVAL]
    assert {r["auth"] for r in fake.requests} == {None}  # no credentials of any kind
    assert all("placement-workbench" in r["agent"] for r in fake.requests)  # says who asks


def test_fetch__backs_off_exponentially_on_429_and_5xx_then_returns_the_answer(fake, clock):
    fake.replies = [status(429), status(503), status(500), answer("Adler")]
    result = client_for(fake, clock).fetch({"r": 5})
    assert [e["name"] for e in result["arztPraxisDatas"]] == ["Adler"]
    assert gaps(fake) == [5.0, 10.0, 20.0]


def test_fetch__honours_a_longer_retry_after(fake, clock):
    fake.replies = [status(429, {"Retry-After": "60"}), answer("Adler")]
    client_for(fake, clock).fetch({"r": 5})
    assert gaps(fake) == [60.0]


def test_fetch__gives_up_after_five_attempts_and_says_what_to_do(fake, clock):
    fake.replies = [status(503)] * 5 + [answer("never asked for")]
    with pytest.raises(JobError, match=r"still failed after 5 attempts \(HTTP 503\).*Try again later"):
        client_for(fake, clock).fetch({"r": 5})
    assert len(fake.requests) == 5


def test_fetch_all__stops_at_the_first_403_and_asks_nothing_more(fake, clock):
    fake.replies = [answer("Adler"), status(403), answer("Berg"), answer("Claus")]
    client = client_for(fake, clock)
    received = []
    with pytest.raises(JobError, match=r"HTTP 403 Forbidden.*wants a browser session.*import the files"):
        received.extend(client.fetch_all([{"r": 1}, {"r": 2}, {"r": 3}]))
    assert [e["name"] for a in received for e in a["arztPraxisDatas"]] == ["Adler"]
    with pytest.raises(JobError, match="wants a browser session"):
        client.fetch({"r": 4})  # a blocked client stays stopped
    assert len(fake.requests) == 2


def test_fetch__a_captcha_page_instead_of_json_is_a_block(fake, clock):
    fake.replies = [CAPTCHA, answer("Adler")]
    client = client_for(fake, clock)
    with pytest.raises(JobError, match=r"a web page, e\.g\. a captcha.*wants a browser session"):
        client.fetch({"r": 1})
    with pytest.raises(JobError, match="wants a browser session"):
        client.fetch({"r": 1})
    assert len(fake.requests) == 1


def test_fetch__json_in_another_format_is_a_clear_error(fake, clock):
    fake.replies = [(200, {"Content-Type": "application/json"}, b'{"results": []}')]
    with pytest.raises(JobError, match=r"without a list 'arztPraxisDatas' \(keys: results\)"):
        client_for(fake, clock).fetch({"r": 1})


def test_client__is_off_by_default_and_asks_nothing(fake, clock):
    with pytest.raises(ConfigError, match="DIRECTORY_LIVE_ENABLED"):
        DirectoryClient(settings=load_settings(), url=fake.url, clock=clock, sleep=clock.sleep)
    assert fake.requests == []
