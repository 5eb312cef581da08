"""Browser-test helpers shared by tests/e2e and tests/benchmarks: a dashboard process served like `make run`
serves it, stopping a child process, the login cookie, waiting for a settled page, and axe-core findings."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from core.auth import cookies
from tests.support.postgres import free_port, wait_for

SERIOUS = {"serious", "critical"}
# Rules excluded because the markup is Streamlit's own and cannot be changed by a page (each with the reason):
EXCLUDED_RULES: dict[str, str] = {}


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - local URL
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def dashboard(repo_root: Path, log_path: Path, *, script: str = "dashboards/server.py") -> Iterator[str]:
    """One dashboard process served like make run does (or ``script``, e.g. dashboards/app.py); yields its URL."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=repo_root, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: healthy(url) or proc.poll() is not None, timeout=90, what="streamlit to start")
            assert proc.poll() is None, log_path.read_text()
            yield url
        finally:
            stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Ask ``proc`` to finish (SIGTERM), wait up to 60 s, then kill it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)  # a loaded machine may take a while to finish the running jobs
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def login_cookie(page) -> dict:
    """Wait until the page has handed the browser its login cookie; return it as the browser stores it."""
    for _ in range(120):
        found = [c for c in page.context.cookies() if c["name"] == cookies.NAME]
        if found:
            return found[0]
        page.wait_for_timeout(250)
    raise AssertionError(f"no {cookies.NAME} cookie after the login: {page.context.cookies()}")


def settled(page) -> None:
    """Wait until Streamlit has finished the current run (and drawn its result)."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # the last delta is painted after the state flips
    assert page.locator("[data-testid=stException]").count() == 0, page.url


def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one readable line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in SERIOUS or violation["id"] in EXCLUDED_RULES:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
        found.append(f"{page.url}: {violation['id']} ({violation['impact']}) {violation['help']} at {targets}")
    return found
