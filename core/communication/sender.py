"""Send the outbox by SMTP: claim due rows with SKIP LOCKED, send each once, retry, give up, flag doubt.

Per mail the sender commits three facts in order: the claim ('sending', attempts + 1), then - only after
the SMTP server answered - the result ('sent', 'failed' with a next attempt, or 'dead'). A row still in
'sending' when no sender is alive was claimed by a process that died between claim and confirmation: the
server may or may not have accepted it, so it is never resent but flagged ``needs_review`` for staff, who
settle it on the Mailbox page (``resolve_review``). At most one batch (``batch_size``) can be in doubt per crash.

Every sender holds a shared transaction-level advisory lock while it runs; the in-doubt scan runs only when
it can take the same lock exclusively, i.e. when no other sender is alive (the lock dies with the process).

Example:
    report = send_due(get_engine(), now=datetime.now(UTC), limit=100)
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal, Protocol

from sqlalchemy import Engine, func, or_, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.communication import window as send_window
from core.communication.models import Email, EmailStatus
from core.config import Settings, get_settings
from core.errors import IllegalTransition, ValidationError
from core.events.service import emit

ACTOR = "sender"
SENDER_LOCK_KEY = 0x5E4D_6D61  # advisory lock: shared = a sender is alive, exclusive = none is
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=2)
DEFAULT_BATCH = 20
SMTP_TIMEOUT_SECONDS = 30
IDLE_CHECK_SECONDS = 5  # a connection idle this long is checked (NOOP) before the next mail
IN_DOUBT_NOTE = "sender stopped between claim and confirmation; the SMTP server may have accepted this mail"

Outcome = Literal["temporary", "permanent", "unknown"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    user: str | None
    password: str | None
    mail_from: str
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            mail_from=settings.mail_from,
        )


class ConnectFailed(Exception):
    """The SMTP server could not be reached or refused the session: nothing was handed over."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"cannot reach the SMTP server: {cause}")
        self.cause = cause


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


class SmtpTransport:
    """One reused SMTP connection (smtplib) with STARTTLS/SSL and login as configured."""

    def __init__(self, config: SmtpSettings) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if c.user:
                smtp.login(c.user, c.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectFailed(exc) from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                self._smtp.noop()  # a server may drop idle connections; find out before handing over a mail
            except (OSError, smtplib.SMTPException):
                self._smtp = None
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except (OSError, smtplib.SMTPServerDisconnected):
            self._smtp = None
            raise
        finally:
            self._last_used = time.monotonic()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def classify(exc: BaseException) -> Outcome:
    """Say what a failed send means: 'temporary' (retry), 'permanent' (dead) or 'unknown' (may be delivered)."""
    if isinstance(exc, ConnectFailed):
        return "temporary"  # server down or settings wrong (e.g. login): never the mail's fault
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return "permanent" if codes and all(500 <= code < 600 for code in codes) else "temporary"
    if isinstance(exc, smtplib.SMTPResponseException):
        return "permanent" if 500 <= exc.smtp_code < 600 else "temporary"
    return "unknown"  # the connection broke while the mail was being handed over


def backoff_delay(attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 1, 2, 4, 8 ... minutes, capped at ``cap``."""
    if attempts < 1:
        raise ValidationError(f"attempts must be at least 1, got {attempts}; e.g. attempts=1", field="attempts")
    return min(base * 2 ** min(attempts - 1, 30), cap)


def message_id_header(message_id: str) -> str:
    """Return the Message-ID header value (angle brackets added when the stored id has none)."""
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def build_message(email: Email, *, mail_from: str, now: datetime) -> EmailMessage:
    """Return the MIME message of an outbox row: text, and HTML as alternative when present."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = message_id_header(email.message_id)
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    return message


@dataclass
class SendReport:
    window_open: bool = True
    window_reason: str = "open"
    opens_at: datetime | None = None
    due: int = 0  # due rows seen by a dry run
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    needs_review: int = 0  # in doubt during this run (connection broke while handing over)
    flagged_in_doubt: int = 0  # rows left in 'sending' by a sender that died, flagged now
    smtp_unavailable: bool = False
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = asdict(self)
        counts["opens_at"] = self.opens_at.isoformat() if self.opens_at else None
        counts["errors"] = self.errors[:5]
        return counts


def _due(now: datetime):
    return (
        select(Email)
        .where(Email.status.in_([EmailStatus.QUEUED, EmailStatus.FAILED]))
        .where(or_(Email.next_attempt_at.is_(None), Email.next_attempt_at <= now))
    )


def flag_in_doubt(session: Session, *, now: datetime) -> int:
    """Flag every unflagged row in 'sending' for review (call only when no sender is alive); return how many."""
    rows = session.scalars(
        select(Email).where(Email.status == EmailStatus.SENDING, Email.needs_review.is_(False)).with_for_update()
    ).all()
    for row in rows:
        row.needs_review = True
        row.last_error = IN_DOUBT_NOTE
        audit.record(
            session,
            actor=ACTOR,
            action="email.needs_review",
            entity_type="email",
            entity_id=row.id,
            details={"fields": ["needs_review", "last_error"]},
        )
        emit(
            session, "email.needs_review", aggregate_type="email", aggregate_id=row.id, payload={"at": now.isoformat()}
        )
    return len(rows)


def _claim(engine: Engine, *, now: datetime, size: int) -> list[Email]:
    with Session(engine, expire_on_commit=False) as session:
        rows = session.scalars(_due(now).order_by(Email.id).limit(size).with_for_update(skip_locked=True)).all()
        for row in rows:
            row.status = EmailStatus.SENDING
            row.attempts += 1
        session.commit()
        for row in rows:
            session.expunge(row)
        return list(rows)


def _record(
    engine: Engine, email_id: int, outcome: str, *, now: datetime, max_attempts: int, error: str | None = None
) -> str:
    """Write the result of one send in its own transaction; return the status written."""
    with Session(engine) as session:
        # Losing this commit in a database crash is safe: the row stays 'sending' and is flagged, never resent.
        # The claim before SMTP, by contrast, is committed durably (default synchronous_commit).
        session.execute(text("SET LOCAL synchronous_commit = off"))
        row = session.get(Email, email_id, with_for_update=True)
        if outcome == "sent":
            row.status, row.sent_at, row.last_error = EmailStatus.SENT, now, None
            fields = ["status", "sent_at"]
            _advance_inquiry(session, row, now=now)
        elif outcome == "unknown":
            row.needs_review, row.last_error = True, error
            fields = ["needs_review", "last_error"]
        elif outcome == "permanent" or row.attempts >= max_attempts:
            row.status, row.last_error, row.next_attempt_at = EmailStatus.DEAD, error, None
            fields = ["status", "last_error"]
        else:
            row.status, row.last_error = EmailStatus.FAILED, error
            row.next_attempt_at = now + backoff_delay(row.attempts)
            fields = ["status", "last_error", "next_attempt_at"]
        result = "needs_review" if outcome == "unknown" else row.status.value
        audit.record(
            session,
            actor=ACTOR,
            action=f"email.{result}",
            entity_type="email",
            entity_id=row.id,
            details={"fields": fields, "attempts": row.attempts},
        )
        if result in ("sent", "dead", "needs_review"):
            payload = {"template": row.template}
            emit(session, f"email.{result}", aggregate_type="email", aggregate_id=row.id, payload=payload)
        session.commit()
        return result


def _advance_inquiry(session: Session, row: Email, *, now: datetime) -> None:
    """An inquiry counts as sent when its mail is: move it queued -> sent in the same transaction."""
    if row.template != "inquiry" or row.inquiry_id is None:
        return
    from core.matching import service as matching
    from core.matching.models import Inquiry, InquiryStatus

    inquiry = session.get(Inquiry, row.inquiry_id)
    if inquiry is not None and inquiry.status == InquiryStatus.QUEUED:
        # answered or withdrawn meanwhile: the mail still went out, the inquiry keeps its state
        with contextlib.suppress(IllegalTransition):
            matching.mark_sent(session, inquiry_id=inquiry.id, actor=ACTOR, now=now)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def send_due(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings | None = None,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
    transport: Transport | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> SendReport:
    """Send due outbox rows (queued, or failed and due at ``now``) inside the sending window.

    ``now`` decides the window and which rows are due; ``clock`` stamps results (sent_at, next attempt).
    Commits its own transactions (one claim per batch, one result per mail). ``dry_run`` writes nothing.
    """
    settings = settings or get_settings()
    if limit is not None and limit < 1:
        raise ValidationError(f"limit must be at least 1, got {limit}; e.g. --limit 100", field="limit")
    if batch_size < 1:
        raise ValidationError(f"batch size must be at least 1, got {batch_size}; e.g. 20", field="batch_size")
    report = SendReport(dry_run=dry_run)
    win = send_window.state(send_window.parse_window(settings.send_window), now, timezone=settings.timezone)
    report.window_open, report.window_reason, report.opens_at = win.open, win.reason, win.opens_at
    if dry_run:
        with Session(engine) as session:
            report.due = session.scalar(select(func.count()).select_from(_due(now).subquery()))
        return report
    if not win.open:
        return report
    transport = transport or SmtpTransport(SmtpSettings.from_settings(settings))
    with engine.connect() as alive:
        with Session(bind=alive) as session:
            if session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SENDER_LOCK_KEY}):
                report.flagged_in_doubt = flag_in_doubt(session, now=now)
            session.commit()
        alive.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": SENDER_LOCK_KEY})  # held till the end
        try:
            _send_batches(
                engine,
                report,
                now=now,
                settings=settings,
                limit=limit,
                size=batch_size,
                transport=transport,
                clock=clock,
            )
        finally:
            transport.close()
            alive.rollback()
    return report


def _send_batches(
    engine: Engine,
    report: SendReport,
    *,
    now: datetime,
    settings: Settings,
    limit: int | None,
    size: int,
    transport: Transport,
    clock: Callable[[], datetime],
) -> None:
    while limit is None or report.claimed < limit:
        batch = _claim(engine, now=now, size=size if limit is None else min(size, limit - report.claimed))
        if not batch:
            return
        report.claimed += len(batch)
        for index, row in enumerate(batch):
            try:
                transport.send(build_message(row, mail_from=settings.mail_from, now=clock()))
            except (ConnectFailed, OSError, smtplib.SMTPException) as exc:
                outcome, error = classify(exc), f"{type(exc).__name__}: {exc}"[:2000]
                report.errors.append(f"email {row.id}: {error}")
                result = _record(
                    engine, row.id, outcome, now=clock(), max_attempts=settings.send_max_attempts, error=error
                )
                _count(report, result)
                if isinstance(exc, ConnectFailed):
                    report.smtp_unavailable = True
                    for rest in batch[index + 1 :]:  # never handed over: certainly not delivered, retry later
                        _count(
                            report,
                            _record(
                                engine,
                                rest.id,
                                "temporary",
                                now=clock(),
                                max_attempts=settings.send_max_attempts,
                                error=error,
                            ),
                        )
                    return
                continue
            _count(report, _record(engine, row.id, "sent", now=clock(), max_attempts=settings.send_max_attempts))


def _count(report: SendReport, result: str) -> None:
    if result == "sent":
        report.sent += 1
    elif result == "failed":
        report.failed += 1
    elif result == "dead":
        report.dead += 1
    else:
        report.needs_review += 1


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Job entry for the scheduler: sends with its own transactions (a mail's result must not wait for the run)."""
    return send_due(session.get_bind(), now=now, dry_run=dry_run).as_dict()


def resolve_review(
    session: Session, *, email_id: int, delivered: bool, actor: str, now: datetime, actor_id: int | None = None
) -> Email:
    """Settle a mail in doubt: ``delivered=True`` marks it sent (seen in the recipient's mailbox or confirmed),
    ``False`` queues it again to be sent once more. Raises IllegalTransition for a row not awaiting review."""
    row = session.get(Email, email_id, with_for_update=True)
    if row is None:
        from core.errors import NotFound

        raise NotFound(f"Email {email_id} does not exist; pick one from the review list, e.g. email_id=12")
    if not row.needs_review or row.status != EmailStatus.SENDING:
        raise IllegalTransition(f"Email {email_id} does not await review (status {row.status.value})")
    row.needs_review = False
    if delivered:
        row.status, row.sent_at = EmailStatus.SENT, now
        _advance_inquiry(session, row, now=now)
    else:
        row.status, row.next_attempt_at = EmailStatus.QUEUED, None
    row.last_error = None
    result = "sent" if delivered else "queued"
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action=f"email.review_{result}",
        entity_type="email",
        entity_id=row.id,
        details={"fields": ["status", "needs_review", "last_error"]},
    )
    emit(session, f"email.review_{result}", aggregate_type="email", aggregate_id=row.id, payload={"actor": actor})
    return row


def outbox_state(session: Session, *, limit: int = 200) -> dict[str, Any]:
    """Return the outbox for staff: counts per status, and the rows needing attention (dead or in doubt)."""
    counts = {status.value: 0 for status in EmailStatus}
    for status, count in session.execute(select(Email.status, func.count()).group_by(Email.status)):
        counts[EmailStatus(status).value] = count
    problems = session.scalars(
        select(Email)
        .where(or_(Email.status == EmailStatus.DEAD, Email.needs_review.is_(True)))
        .order_by(Email.updated_at.desc(), Email.id.desc())
        .limit(limit)
    ).all()
    rows = [
        {
            "id": row.id,
            "status": row.status.value,
            "needs_review": row.needs_review,
            "to": row.to_address,
            "subject": row.subject,
            "template": row.template,
            "attempts": row.attempts,
            "last_error": row.last_error or "",
            "updated_at": row.updated_at,
        }
        for row in problems
    ]
    return {"counts": counts, "problems": rows}
