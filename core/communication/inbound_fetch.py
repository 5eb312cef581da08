"""Fetch replies and delivery-failure reports: the scheduled job ``fetch_mail`` (``python -m jobs.fetch_mail``).

Two sources, one pipeline (parse -> core.communication.inbound_store.file_mail):
- IMAP (IMAP_HOST set): the INBOX of IMAP_USER; every mail without the keyword ``WorkbenchFiled`` is read
  (BODY.PEEK: the \\Seen flag a person may rely on is left alone) and, once the transaction that stored it
  has committed, flagged with that keyword on the server, so the next run skips it. A crash between commit
  and flagging only means the mail is read again and skipped by its Message-ID.
- the local catcher's inbox (IMAP_HOST unset and outgoing mail going to the catcher, i.e. ``make run``):
  the catcher files every mail addressed to one of our reply addresses into the Maildir DATA_DIR/inbound;
  mails in its ``new/`` folder are read and, after commit, moved to ``cur/`` with the Seen flag, exactly
  what an IMAP server does with Maildir. Otherwise the job is off and says so.
A mail that cannot be filed is rolled back alone (savepoint), logged by Message-ID and left unflagged.
Logs name mails by Message-ID and count them; addresses, subjects and bodies never appear.
"""

from __future__ import annotations

import imaplib
import logging
import mailbox
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.communication import inbound, inbound_store
from core.communication.catcher import receives_outgoing_mail
from core.config import Settings, get_settings
from core.errors import WorkbenchError

FILED_KEYWORD = "WorkbenchFiled"
BATCH = 200  # mails per run; the next run (every few minutes) takes the rest
TIMEOUT_SECONDS = 30
COUNTERS = {"reply": "replies", "bounce": "bounces", "other": "other"}

_log = logging.getLogger(__name__)


class MailSource(Protocol):
    name: str

    def unfiled(self, limit: int) -> Iterator[tuple[str, bytes]]: ...  # (key, raw mail)
    def mark_filed(self, keys: list[str]) -> None: ...


class ImapSource:
    """The INBOX of an IMAP account; filed mails get the keyword FILED_KEYWORD."""

    name = "imap"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uidvalidity: bytes | None = None

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        port = s.imap_port or (993 if s.imap_ssl else 143)
        if s.imap_ssl:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(s.imap_host, port, ssl_context=ssl.create_default_context(),
                                                    timeout=TIMEOUT_SECONDS)  # fmt: skip
        else:
            conn = imaplib.IMAP4(s.imap_host, port, timeout=TIMEOUT_SECONDS)
        conn.login(s.imap_user or "", s.imap_password or "")
        conn.select("INBOX")
        return conn

    def unfiled(self, limit: int) -> Iterator[tuple[str, bytes]]:
        conn = self._connect()
        try:
            self.uidvalidity = (conn.response("UIDVALIDITY")[1] or [None])[0]
            _, found = conn.uid("SEARCH", None, "UNKEYWORD", FILED_KEYWORD)
            for uid in (found[0] or b"").split()[:limit]:
                _, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in data if isinstance(part, tuple)), None)
                if raw is not None:
                    yield uid.decode(), raw
        finally:
            conn.logout()

    def mark_filed(self, keys: list[str]) -> None:
        if not keys:
            return
        conn = self._connect()
        try:
            if (conn.response("UIDVALIDITY")[1] or [None])[0] != self.uidvalidity:
                _log.warning("IMAP UIDVALIDITY changed; %d filed mails stay unflagged and are skipped next run",
                             len(keys))  # fmt: skip
                return
            conn.uid("STORE", ",".join(keys), "+FLAGS", f"({FILED_KEYWORD})")
        finally:
            conn.logout()


class MaildirSource:
    """The local catcher's inbox: a Maildir whose ``new/`` mails are unfiled."""

    name = "catcher"

    def __init__(self, path: Path) -> None:
        self.path = path

    def unfiled(self, limit: int) -> Iterator[tuple[str, bytes]]:
        if not self.path.is_dir():
            return
        box = mailbox.Maildir(self.path, create=False)
        for key in sorted(box.keys())[: limit * 4]:
            message = box.get_message(key)
            if message.get_subdir() == "new":
                yield key, box.get_bytes(key)
                limit -= 1
                if limit == 0:
                    return

    def mark_filed(self, keys: list[str]) -> None:
        box = mailbox.Maildir(self.path, create=False)
        for key in keys:
            message = box.get_message(key)
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message


def source_for(settings: Settings) -> MailSource | None:
    """Return where replies are fetched from, or None when fetching is off (see the module docstring)."""
    if settings.imap_host:
        return ImapSource(settings)
    if receives_outgoing_mail(settings):
        return MaildirSource(settings.data_dir / "inbound")
    return None


@dataclass
class FetchReport:
    source: str | None
    read: int = 0
    replies: int = 0
    bounces: int = 0
    other: int = 0
    seen_before: int = 0
    failed: int = 0
    calls_scheduled: int = 0
    dry_run: bool = False
    filed_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = {k: v for k, v in self.__dict__.items() if k != "filed_keys"}
        return {**counts, "enabled": self.source is not None}


def fetch(session: Session, *, now: datetime, dry_run: bool = False, settings: Settings | None = None,
          source: MailSource | None = None, limit: int = BATCH) -> FetchReport:  # fmt: skip
    """Read every unfiled mail of the source and file it; flag the filed mails after the caller commits."""
    settings = settings or get_settings()
    source = source or source_for(settings)
    report = FetchReport(source=source.name if source else None, dry_run=dry_run)
    if source is None:
        return report
    for key, raw in source.unfiled(limit):
        report.read += 1
        parsed = inbound.parse(raw)
        if dry_run:
            continue
        try:
            with session.begin_nested():
                filed = inbound_store.file_mail(session, parsed=parsed, now=now, settings=settings)
        except (WorkbenchError, ValueError, LookupError) as exc:
            report.failed += 1
            _log.warning("could not file inbound mail %s: %s", parsed.message_id, type(exc).__name__)
            continue
        report.filed_keys.append(key)
        if not filed.new:
            report.seen_before += 1
            continue
        counter = COUNTERS[filed.kind.value]
        setattr(report, counter, getattr(report, counter) + 1)
        report.calls_scheduled += filed.call_id is not None
    if report.filed_keys:
        _after_commit(session, lambda keys=list(report.filed_keys): source.mark_filed(keys))
    _log.info("fetched %d inbound mails from %s: %s", report.read, source.name, report.as_dict())
    return report


def _after_commit(session: Session, action: Callable[[], None]) -> None:
    def run(_session: Session) -> None:
        try:
            action()
        except (OSError, imaplib.IMAP4.error) as exc:  # stored already: the next run reads them again, skips them
            _log.warning("could not flag filed mails on the server (%s); the next run skips them", type(exc).__name__)

    event.listen(session, "after_commit", run, once=True)


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The registered job ``fetch_mail``."""
    return fetch(session, now=now, dry_run=dry_run).as_dict()
