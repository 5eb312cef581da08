"""A local SMTP catcher (the role MailHog/Mailpit plays in docker-compose): stores every mail as .eml.

Caught mail is health data (patient names in addresses, subjects and bodies): the mailbox folder is 0700 and
every mail file 0600, set explicitly whatever the umask, and the log names mails by Message-ID and counts
them, never with an address, subject or body (aiosmtpd's own log, which lists every SMTP command, is cut to
warnings with addresses masked).

Mail to one of our reply addresses (MAIL_FROM with "+m<mail id>", the Reply-To of every mail we send) is
also filed into the Maildir ``inbound`` when given: under ``make run`` that is the inbox jobs.fetch_mail
reads, so a reply sent to the catcher reaches the inquiry's thread as it would from a real mail server.

Example:
    catcher = MailCatcher(Path("data/mailbox"), port=1025, inbound=Path("data/inbound"), mail_from=...)
    catcher.start(); ...; catcher.stop()
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from mailbox import Maildir
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from core.communication.inbound import reply_mail_id
from core.config import Settings

MAILBOX_MODE = 0o700  # caught mail is health data: only the account running the catcher may open the folder
MAIL_FILE_MODE = 0o600  # ... and the files in it
ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
MESSAGE_ID = re.compile(r"<[\x21-\x3d\x3f-\x7e]{1,200}>")  # printable, no '>' inside: safe to log

_log = logging.getLogger(__name__)


class _MaskSmtpLog(logging.Filter):
    """Pass only warnings and errors of aiosmtpd's "mail.log", with every e-mail address masked.

    At INFO aiosmtpd logs every command of every session (MAIL FROM, RCPT TO: the recipient addresses).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        error = f" ({record.exc_info[0].__name__})" if record.exc_info and record.exc_info[0] else ""
        record.msg, record.args = ADDRESS.sub("<address>", record.getMessage()) + error, None
        record.exc_info = record.exc_text = None  # a traceback may quote the mail being received
        return True


def _mask_smtp_log() -> None:
    smtp_log = logging.getLogger("mail.log")
    smtp_log.setLevel(logging.WARNING)  # explicit: a DEBUG root logger must not switch the command log on
    if not any(isinstance(f, _MaskSmtpLog) for f in smtp_log.filters):
        smtp_log.addFilter(_MaskSmtpLog())


def prepare_mailbox(mailbox: Path) -> None:
    """Create ``mailbox`` if needed and make it and the mail already in it readable by its owner only."""
    mailbox.mkdir(mode=MAILBOX_MODE, parents=True, exist_ok=True)
    os.chmod(mailbox, MAILBOX_MODE)  # also an older, open mailbox; mkdir's mode is narrowed by the umask only
    for path in mailbox.iterdir():
        if path.suffix in {".eml", ".part"} and path.is_file():
            os.chmod(path, MAIL_FILE_MODE)


def _message_id(content: bytes) -> str:
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    match = MESSAGE_ID.fullmatch(str(headers.get("Message-ID", "")).strip())
    return match.group(0) if match else "(no Message-ID)"


def file_reply(inbound: Path, content: bytes) -> None:
    """Deliver a copy of a mail to our reply addresses into the Maildir ``inbound`` (read by jobs.fetch_mail)."""
    for folder in (inbound, inbound / "tmp", inbound / "new", inbound / "cur"):
        folder.mkdir(mode=MAILBOX_MODE, parents=True, exist_ok=True)
        os.chmod(folder, MAILBOX_MODE)
    box = Maildir(inbound, create=False)
    key = box.add(content)
    os.chmod(inbound / "new" / key, MAIL_FILE_MODE)  # Maildir creates it as 0666 minus the umask


class _StoreHandler:
    def __init__(self, mailbox: Path, *, inbound: Path | None = None, mail_from: str | None = None) -> None:
        self.mailbox = mailbox
        self.inbound = inbound  # replies to our mails are also filed here, like a mail server's inbox
        self.mail_from = mail_from
        self.caught = 0

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        if not self.mailbox.is_dir():
            prepare_mailbox(self.mailbox)  # deleted while the catcher runs
        content = envelope.original_content or envelope.content
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.mailbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = final.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MAIL_FILE_MODE)
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), MAIL_FILE_MODE)  # explicit, not left to the umask
            file.write(content)
        partial.rename(final)  # readers never see half a message
        self.caught += 1
        if self.inbound and self.mail_from and reply_mail_id(tuple(envelope.rcpt_tos), mail_from=self.mail_from):
            file_reply(self.inbound, content)
        _log.info(
            "caught mail %s (%d recipients, %d bytes; %d since start)",
            _message_id(content),
            len(envelope.rcpt_tos),
            len(content),
            self.caught,
        )
        return "250 Message accepted for delivery"


class MailCatcher:
    """An in-process SMTP server on localhost that keeps all mail it receives in ``mailbox``."""

    def __init__(self, mailbox: Path, *, host: str = "127.0.0.1", port: int = 1025, inbound: Path | None = None,
                 mail_from: str | None = None) -> None:  # fmt: skip
        self.mailbox = mailbox
        self.handler = _StoreHandler(mailbox, inbound=inbound, mail_from=mail_from)
        self.controller = Controller(self.handler, hostname=host, port=port)

    def start(self) -> None:
        _mask_smtp_log()
        prepare_mailbox(self.mailbox)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
        _log.info("mail catcher stopped: %d mails caught", self.handler.caught)


@dataclass(frozen=True)
class CaughtMail:
    path: Path
    received_at: datetime
    subject: str
    sender: str
    recipients: str
    text: str
    html: str | None
    headers: dict[str, str]


def read_mailbox(mailbox: Path, *, limit: int = 200) -> list[CaughtMail]:
    """Return the newest caught mails first."""
    if not mailbox.exists():
        return []
    mails = []
    for path in sorted(mailbox.glob("*.eml"), reverse=True)[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        stamp = datetime.strptime(path.name.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        mails.append(
            CaughtMail(
                path=path,
                received_at=stamp,
                subject=str(message.get("Subject", "")),
                sender=str(message.get("From", "")),
                recipients=str(message.get("To", "")),
                text=text_part.get_content() if text_part else "",
                html=html_part.get_content() if html_part else None,
                headers={k: str(v) for k, v in message.items()},
            )
        )
    return mails


def receives_outgoing_mail(settings: Settings) -> bool:
    """Say whether outgoing mail goes to the local catcher (the embedded default): then its mailbox is evidence."""
    return settings.smtp_host in {"127.0.0.1", "localhost"} and settings.smtp_port == settings.mail_catcher_port


def received_message_ids(mailbox: Path, wanted: set[str]) -> set[str]:
    """Return which of the Message-IDs ``wanted`` are among the mails in ``mailbox`` (reads headers only)."""
    found: set[str] = set()
    if not wanted or not mailbox.exists():
        return found
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    for path in sorted(mailbox.glob("*.eml"), reverse=True):  # newest first: a mail in doubt is a recent one
        with path.open("rb") as file:
            message_id = str(parser.parse(file).get("Message-ID", "")).strip()
        if message_id in wanted:
            found.add(message_id)
            if found == wanted:
                break
    return found
