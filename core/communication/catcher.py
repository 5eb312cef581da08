"""A local SMTP catcher (the role MailHog/Mailpit plays in docker-compose): stores every mail as .eml.

Example:
    catcher = MailCatcher(Path("data/mailbox"), port=1025)
    catcher.start(); ...; catcher.stop()
"""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


class _StoreHandler:
    def __init__(self, mailbox: Path) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        self.mailbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.mailbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = final.with_suffix(".part")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(final)  # readers never see half a message
        return "250 Message accepted for delivery"


class MailCatcher:
    """An in-process SMTP server on localhost that keeps all mail it receives in ``mailbox``."""

    def __init__(self, mailbox: Path, *, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.mailbox = mailbox
        self.controller = Controller(_StoreHandler(mailbox), hostname=host, port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


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
