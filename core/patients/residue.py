"""What an erasure leaves outside its transaction: local mail copies, log lines, dead rows and old WAL.

``purge_local_copies`` deletes caught mail (DATA_DIR/mailbox/*.eml, written by the local mail catcher) that
names the patient and redacts log lines (DATA_DIR/logs) that do. ``compact_database`` rewrites the tables an
erasure touches, so that dead row versions and index entries with the old values are gone, refreshes the
planner statistics (pg_statistic keeps sample values) and moves the server past the WAL that still holds
them. Example:

    purged = purge_local_copies(Path("data"), ("anna@example.org", "Anna Muster"))
    notes = compact_database(engine, embedded=True)
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

_log = logging.getLogger(__name__)
REDACTED = "[redacted: erased patient]"
# every table an erasure changes or whose rows may quote the patient (mail bodies, audit and event rows)
ERASURE_TABLES = ("patient", "search", "consent", "inquiry_item", "inquiry", "email", "phone_call", "patient_call",
                  "followup_task", "geocache", "audit_event", "domain_event")  # fmt: skip


@dataclass(frozen=True)
class Purged:
    mails_deleted: int
    log_lines_redacted: int


def _mentions(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles)


def _mail_text(path: Path) -> str:
    """The raw bytes and the decoded parts of a caught mail (names may be quoted-printable or base64)."""
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [raw.decode("utf-8", errors="replace"), *(str(v) for v in message.values())]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def purge_local_copies(data_dir: Path, identifiers: tuple[str, ...]) -> Purged:
    """Delete caught mails and redact log lines under ``data_dir`` that contain any of ``identifiers``."""
    if not identifiers:
        return Purged(0, 0)
    deleted = 0
    mailbox, inbound = data_dir / "mailbox", data_dir / "inbound"  # inbound: replies the catcher filed (Maildir)
    caught = sorted(mailbox.glob("*.eml")) if mailbox.exists() else []
    filed = sorted(p for sub in ("new", "cur") for p in (inbound / sub).glob("*")) if inbound.exists() else []
    for path in [*caught, *filed]:
        if _mentions(_mail_text(path), identifiers):
            path.unlink()
            deleted += 1
    redacted = 0
    logs = data_dir / "logs"
    for path in sorted(p for p in logs.rglob("*") if p.is_file()) if logs.exists() else []:
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
        kept = [REDACTED + "\n" if _mentions(line, identifiers) else line for line in lines]
        changed = sum(a != b for a, b in zip(lines, kept, strict=True))
        if changed:
            # rewritten in place: a running process appending to the file keeps its handle
            with path.open("r+b") as handle:
                handle.write("".join(kept).encode("utf-8"))
                handle.truncate()
            redacted += changed
    return Purged(deleted, redacted)


def _rewrite(connection: Connection, table: str) -> str | None:
    """VACUUM FULL one table without waiting for its lock; return why it was not rewritten, else None.

    VACUUM FULL locks the table exclusively: a busy table is reported, not waited for (SKIP_LOCKED). Not
    ``SET lock_timeout``: VACUUM runs outside a transaction, so the setting would stay on the session, and
    behind PgBouncer in transaction mode on a pooled server connection that other clients then get.
    A rewritten table has a new file node; a skipped one keeps its old one (the skip is only a WARNING).
    """
    node = f"SELECT pg_relation_filenode('\"{table}\"')"
    try:
        before = connection.exec_driver_sql(node).scalar()
        connection.exec_driver_sql(f'VACUUM (FULL, ANALYZE, SKIP_LOCKED) "{table}"')
        after = connection.exec_driver_sql(node).scalar()
    except DBAPIError as exc:
        return type(exc.orig).__name__
    return "busy: another transaction holds it" if after == before else None


def compact_database(engine: Engine, *, embedded: bool) -> list[str]:
    """Rewrite the erasure's tables and leave the WAL that held the old values; return what happened.

    On the embedded server this switches off WAL recycling (old segments are deleted, not renamed for
    reuse with their content). On an own server (DATABASE_URL) the notes say what the operator must do
    where our database role lacks the right.
    """
    notes: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ERASURE_TABLES:
            problem = _rewrite(connection, table)
            if problem:
                notes.append(f"table {table} was not rewritten ({problem}); run VACUUM FULL {table}")
        if not notes:
            notes.append(f"tables rewritten and analysed: {', '.join(ERASURE_TABLES)}")
        try:  # the statistics' old rows (sampled values) are dead tuples of pg_statistic now
            connection.exec_driver_sql("VACUUM FULL pg_catalog.pg_statistic")
        except DBAPIError as exc:
            notes.append(f"pg_statistic was not rewritten ({type(exc.orig).__name__}); an operator may run "
                         "VACUUM FULL pg_catalog.pg_statistic as a superuser")  # fmt: skip
        try:
            if embedded:
                connection.exec_driver_sql("ALTER SYSTEM SET wal_recycle = off")
                connection.exec_driver_sql("SELECT pg_reload_conf()")
            connection.exec_driver_sql("CHECKPOINT")
            connection.exec_driver_sql("SELECT pg_switch_wal()")
            connection.exec_driver_sql("CHECKPOINT")
            notes.append("WAL switched and checkpointed: segments with the old values are no longer needed")
        except DBAPIError as exc:
            _log.warning("erasure: WAL not switched: %s", type(exc.orig).__name__)
            notes.append(
                "operator: the database role may not switch the WAL; run CHECKPOINT; SELECT pg_switch_wal(); "
                "CHECKPOINT; as a superuser (with wal_recycle = off), and let old base backups and WAL "
                "archives expire under your backup retention"
            )
    if not embedded:
        notes.append("operator: set wal_recycle = off on the own server (recycled WAL segments keep old values); "
                     "backups, WAL archives and replicas keep old values until they expire")  # fmt: skip
    return notes
