"""The sender tests' shared pieces: a running SMTP catcher (the ``smtp`` fixture), settings that point at it,
queued mails in the outbox, and what the catcher and the outbox hold afterwards."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication.catcher import MailCatcher
from core.communication.models import Email, EmailStatus
from core.config import load_settings
from tests.support.postgres import free_port

ALWAYS = "Mon-Sun 00:00-24:00 holidays=none"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Berlin


@pytest.fixture
def smtp(tmp_path) -> Iterator[tuple[int, Path]]:
    """A running catcher on a free port: (port, mailbox)."""
    port, mailbox = free_port(), tmp_path / "mailbox"
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    yield port, mailbox
    catcher.stop()


def settings_for(port: int, **overrides):
    values = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_user": None}
    values |= {"send_window": ALWAYS, "send_max_attempts": 3} | overrides
    return load_settings(**values)


def add_mails(engine, count: int, *, to: str = "praxis{}@example.org") -> list[int]:
    with Session(engine) as session:
        rows = [
            Email(
                template="status_update",
                to_address=to.format(i),
                subject=f"Ihre Suche {i}",
                body_text=f"Hallo {i}",
                body_html=f"<p>Hallo {i}</p>",
                message_id=f"<{uuid.uuid4().hex}@workbench.example.org>",
                status=EmailStatus.QUEUED,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def caught(mailbox: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(mailbox.glob("*.eml"))
    ]


def rows(engine) -> dict[int, Email]:
    with Session(engine, expire_on_commit=False) as session:
        return {row.id: row for row in session.scalars(select(Email))}
