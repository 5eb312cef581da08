"""The app's web server as a probe and a browser meet it: health that knows the database, no framing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import Message

import pytest

from core.db.embedded import ensure_database
from tests.support.postgres import TcpPostgres, free_port, wait_for

pytestmark = pytest.mark.browser


def get(url: str) -> tuple[int, Message | dict, bytes]:
    """Return status, headers and body; status 0 while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local URL
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except OSError:
        return 0, {}, b""


@pytest.fixture
def served(repo_root, tmp_path):
    """``streamlit run dashboards/server.py`` (what make run starts) on its own PostgreSQL."""
    server = TcpPostgres(tmp_path / "pg")
    server.start()
    ensure_database(server.url(), "placement")
    port = free_port()
    log = (tmp_path / "streamlit.log").open("wb")
    env = {**os.environ, "DATABASE_URL": server.url("placement"), "DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboards/server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=repo_root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(f"{url}/_stcore/health")[0] == 200 if proc.poll() is None else True, timeout=90,
                 what="streamlit to start")  # fmt: skip
        assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()
        yield url, server, proc, tmp_path / "streamlit.log"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        server.stop()


def test_healthz__turns_unhealthy_while_the_database_is_down_and_back(served):
    url, server, proc, log = served
    status, _, body = get(f"{url}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "database": "ok", "pid": proc.pid}

    server.stop()
    status, _, body = get(f"{url}/healthz")
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "unhealthy"
    assert "Connection refused" in answer["database"] or "connect" in answer["database"]
    # the browser's own ping keeps working, so a user sees the app's calm message, not "Connecting..."
    assert get(f"{url}/_stcore/health")[0] == 200

    server.start()
    wait_for(lambda: get(f"{url}/healthz")[0] == 200, timeout=30, what="healthz to recover")
    text = log.read_text()
    assert "unhealthy: database not reachable" in text
    assert "healthy again" in text


def test_every_response__forbids_framing_by_other_sites(served):
    url, *_ = served
    for path in ["/", "/patients", "/_stcore/health", "/_stcore/host-config", "/healthz", "/no-such-file.js"]:
        _, headers, _ = get(f"{url}{path}")
        assert headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"], path
