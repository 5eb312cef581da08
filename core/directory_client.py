"""A polite live client for the 116117 doctor search's JSON API; off unless DIRECTORY_LIVE_ENABLED is set.

It fetches search answers as the raw JSON dicts the importer also reads from saved files (root
``arztPraxisDatas``, a list of entries, and ``moreResults``, true when the search was cut off: ask again
with a smaller radius). Polite on purpose (DESIGN 6, issue #14):

- at least MIN_INTERVAL (3 s) between any two requests, retries included;
- exponential backoff on 429 and 5xx answers and on network errors (a ``Retry-After`` is honoured), giving
  up after MAX_ATTEMPTS with a clear message;
- it stops at the first block (403, or a web page such as a captcha instead of JSON) and asks nothing more:
  the service wants a browser session, so the staff member saves the answers from a browser instead.

No credentials, tokens or anti-bot code: it sends the query as it is, with an honest user agent.
Example:

    client = DirectoryClient(settings=get_settings())
    for answer in client.fetch_all([{"lat": 52.52, "lon": 13.40, "r": 5}]):
        len(answer["arztPraxisDatas"]), answer["moreResults"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests

from core.config import Settings, get_settings
from core.errors import ConfigError, JobError

DEFAULT_URL = "https://arztsuche.116117.de/api/data"
MIN_INTERVAL = 3.0  # seconds between two requests: one person clicking through the search, not a crawler
BACKOFF_BASE = 5.0  # seconds before the first retry; doubled per attempt (5, 10, 20, 40)
BACKOFF_MAX = 300.0  # never wait longer than 5 minutes for one retry
MAX_ATTEMPTS = 5  # per query, the first request included
TIMEOUT = 30.0  # seconds for one request
USER_AGENT = "placement-workbench (directory import)"  # honest: says what asks, imitates no browser
BLOCKED = (
    "The 116117 search refused the live client ({what}); it wants a browser session. Stopped after the first "
    "block and asked nothing more: run the search in a browser, save its answers (JSON) and import the files "
    "with python -m jobs.import_directory FILE..."
)


class DirectoryClient:
    """Fetch 116117 search answers one query at a time, politely; stop for good at the first block."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        url: str = DEFAULT_URL,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = settings or get_settings()
        if not settings.directory_live_enabled:
            raise ConfigError(
                "The live 116117 client is off (DIRECTORY_LIVE_ENABLED is not set); import saved search answers "
                "with python -m jobs.import_directory FILE..., or set DIRECTORY_LIVE_ENABLED=1"
            )
        self.url = url
        self._http = session or requests.Session()
        self._http.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self._clock, self._sleep = clock, sleep
        self._last_request: float | None = None
        self.blocked: str | None = None  # the block's message, once the service refused us

    def fetch_all(self, queries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield the answer to each query in order; raise JobError at the first block or persistent failure."""
        for query in queries:
            yield self.fetch(query)

    def fetch(self, query: dict[str, Any]) -> dict[str, Any]:
        """Return the search's answer to ``query`` (a JSON object with ``arztPraxisDatas``)."""
        if self.blocked:
            raise JobError(self.blocked)
        problem, retry_after = "", 0.0
        for attempt in range(MAX_ATTEMPTS):
            self._wait(max(_backoff(attempt), retry_after) if attempt else 0.0)
            self._last_request = self._clock()
            try:
                response = self._http.post(self.url, json=query, timeout=TIMEOUT)
            except requests.RequestException as exc:
                problem, retry_after = f"network error: {type(exc).__name__}", 0.0
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem, retry_after = f"HTTP {response.status_code}", _retry_after(response)
                continue
            return self._answer(response)
        raise JobError(
            f"The 116117 search still failed after {MAX_ATTEMPTS} attempts ({problem}); nothing more was asked. "
            "Try again later, or import saved search answers instead"
        )

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code == 403:
            self._block("HTTP 403 Forbidden")
        if response.status_code >= 400:
            raise JobError(
                f"The 116117 search answered HTTP {response.status_code} to the query; check the query's fields "
                "against a search saved from the browser"
            )
        kind = response.headers.get("Content-Type", "")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            looks_like = "a web page, e.g. a captcha" if "html" in kind or response.text.lstrip()[:1] == "<" else kind
            self._block(f"it answered with {looks_like or 'no JSON'} instead of JSON")
        if not isinstance(answer.get("arztPraxisDatas"), list):
            raise JobError(
                "The 116117 search answered JSON without a list 'arztPraxisDatas' (keys: "
                f"{', '.join(sorted(answer)) or 'none'}); the format may have changed, compare with a saved answer"
            )
        return answer

    def _block(self, what: str) -> None:
        self.blocked = BLOCKED.format(what=what)
        raise JobError(self.blocked)

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, and at least until MIN_INTERVAL has passed since the last request."""
        if self._last_request is not None:
            seconds = max(seconds, self._last_request + MIN_INTERVAL - self._clock())
        if seconds > 0:
            self._sleep(seconds)


def _backoff(attempt: int) -> float:
    """Return the wait before retry ``attempt`` (1, 2, ...): 5 s, 10 s, 20 s, ... capped at BACKOFF_MAX."""
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)


def _retry_after(response: requests.Response) -> float:
    """Return the seconds a ``Retry-After: N`` asks for (capped at BACKOFF_MAX), else 0 (an HTTP date is ignored)."""
    value = response.headers.get("Retry-After", "").strip()
    return min(float(value), BACKOFF_MAX) if value.isdigit() else 0.0
