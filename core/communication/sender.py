"""Send the outbox by SMTP: claim due rows, send each once, retry, give up, flag only the mail in doubt.

A sender run claims a small batch of due mails (``claimed_by`` = its run token) in one durable commit, then
hands them over one by one. Each mail is marked 'sending' (attempts + 1, claim cleared) in its own commit,
which also records the 'sent' of the mail before it (with its audit row and event, in one statement,
autocommitted on a second connection: one round trip, no BEGIN and COMMIT). That statement runs while the
mail goes to the SMTP server; the final "." of DATA, without which the server delivers nothing, is sent only
once it has committed. So at any moment at most one mail of a sender is 'sending'. Those per-mail commits
are visible to everyone at once but not flushed to disk one by one (synchronous_commit off): a killed sender
loses nothing, and only a database crash could lose them, which ``recover`` detects.

When a sender dies, the next run (``recover``) re-queues the mails it had claimed but not started (audited
"email.requeued") and flags the one mail in 'sending' ``needs_review``: the server may or may not have
accepted it. It is never resent; staff settle it on the Mailbox page (``resolve_review``). If the database
restarted since a claim, the mails of that claim are flagged as well (their per-mail commits may be lost).

Every sender holds a shared transaction-level advisory lock while it runs; ``recover`` runs only when it can
take the same lock exclusively, i.e. when no other sender is alive (the lock dies with the process). The
per-mail transactions are short and keep no session state, so they may go through PgBouncer.

Example:
    report = send_due(get_engine(), now=datetime.now(UTC), limit=100)
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email import charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any, Literal, Protocol

from sqlalchemy import (
    DateTime,
    Engine,
    Integer,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core import messages
from core.audit import service as audit
from core.audit.models import AuditEvent
from core.communication import window as send_window
from core.communication.inbound import reply_address
from core.communication.models import Email, EmailStatus
from core.config import Settings, get_settings
from core.errors import IllegalTransition, NotFound, ValidationError
from core.events.models import DomainEvent
from core.events.service import emit

ACTOR = "sender"
SENDER_LOCK_KEY = 0x5E4D_6D61  # advisory lock: shared = a sender is alive, exclusive = none is
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=2)
DEFAULT_BATCH = 20
SMTP_TIMEOUT_SECONDS = 30
IDLE_CHECK_SECONDS = 5  # a connection idle this long is checked (NOOP) before the next mail
UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP  # readable in the raw mail, and 7-bit safe for any server
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
    def send(self, message: Message, *, before_end: Callable[[], None] | None = None) -> None: ...
    def close(self) -> None: ...


class _HoldsBackTheEnd:
    """smtplib's DATA, except that ``before_end`` (if set) runs between the body and the final ".".

    Until the "." the server has accepted nothing: a transaction whose connection closes before it is not
    delivered (RFC 5321, 4.1.1.4). So when ``before_end`` raises, the connection is closed, never reused.
    """

    before_end: Callable[[], None] | None = None

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        if self.before_end is None:
            return super().data(msg)  # type: ignore[misc]
        smtp: smtplib.SMTP = self  # type: ignore[assignment]
        code, reply = smtp.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = smtplib._fix_eols(msg).encode("ascii")  # as smtplib.SMTP.data does
        body = smtplib._quote_periods(msg)
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        try:
            self.before_end()
        except BaseException:
            smtp.close()  # in the middle of DATA only closing ends the transaction: the server discards it
            raise
        smtp.send(b".\r\n")
        return smtp.getreply()


class _Smtp(_HoldsBackTheEnd, smtplib.SMTP):
    pass


class _SmtpSsl(_HoldsBackTheEnd, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """One reused SMTP connection (smtplib) with STARTTLS/SSL and login as configured."""

    def __init__(self, config: SmtpSettings) -> None:
        self.config = config
        self._smtp: _Smtp | _SmtpSsl | None = None
        self._last_used = 0.0

    def _connect(self) -> _Smtp | _SmtpSsl:
        c = self.config
        try:
            if c.security == "ssl":
                smtp: _Smtp | _SmtpSsl = _SmtpSsl(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = _Smtp(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            # the final "." follows the body in a small packet of its own: without this, Nagle's algorithm holds
            # it until the server acknowledges the body, which the server delays (about 40 ms per mail on Linux)
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if c.user:
                smtp.login(c.user, c.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectFailed(exc) from exc
        return smtp

    def send(self, message: Message, *, before_end: Callable[[], None] | None = None) -> None:
        """Hand ``message`` over; ``before_end`` runs before the final "." of DATA (raise there to abandon it)."""
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                self._smtp.noop()  # a server may drop idle connections; find out before handing over a mail
            except (OSError, smtplib.SMTPException):
                self._smtp = None
        if self._smtp is None:
            self._smtp = self._connect()
        smtp, smtp.before_end = self._smtp, before_end
        try:
            smtp.send_message(message)
        except BaseException as exc:
            if smtp.sock is None or isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                smtp.close()  # never reuse a connection that may be inside a transaction
                self._smtp = None
            raise
        finally:
            smtp.before_end = None
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


def _at_least_one(name: str, value: int) -> messages.Message:
    return messages.Message("value.at_least_one", "{name} must be at least 1, got {value}", name=name, value=value)


def backoff_delay(attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 1, 2, 4, 8 ... minutes, capped at ``cap``."""
    if attempts < 1:
        raise ValidationError(_at_least_one("attempts", attempts), field="attempts")
    return min(base * 2 ** min(attempts - 1, 30), cap)


def message_id_header(message_id: str) -> str:
    """Return the Message-ID header value (angle brackets added when the stored id has none)."""
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def build_message(email: Email, *, mail_from: str, now: datetime) -> Message:
    """Return the MIME message of an outbox row: text, and HTML as alternative when present.

    Built with the compat32 MIME classes: about four times cheaper to build and serialise than EmailMessage,
    which counts per mail. Raises ValueError for a recipient or subject with a line break (header injection).
    """
    for name, value in (("recipient", email.to_address), ("subject", email.subject)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"the {name} of email {email.id} contains a line break; correct the outbox row")
    text = MIMEText(email.body_text, "plain", UTF8_QP)
    message: Message = text
    if email.body_html:
        message = MIMEMultipart("alternative", _subparts=[text, MIMEText(email.body_html, "html", UTF8_QP)])
    message["From"] = mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject if email.subject.isascii() else Header(email.subject, "utf-8")
    message["Message-ID"] = message_id_header(email.message_id)
    if email.id is not None:  # replies come back to a per-mail address: core.communication.inbound
        message["Reply-To"] = reply_address(mail_from, email.id)
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    return message


@dataclass
class SendReport:
    window_open: bool = True
    window_reason: str = "open"
    opens_at: datetime | None = None
    due: int = 0  # due rows seen by a dry run
    claimed: int = 0  # mails this run started (marked 'sending')
    sent: int = 0
    failed: int = 0
    dead: int = 0
    needs_review: int = 0  # in doubt during this run (connection broke while handing over)
    flagged_in_doubt: int = 0  # rows left in 'sending' by a sender that died, flagged now
    requeued: int = 0  # rows a sender that died had claimed but not handed over, due again now
    smtp_unavailable: bool = False
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = asdict(self)
        counts["opens_at"] = self.opens_at.isoformat() if self.opens_at else None
        counts["errors"] = self.errors[:5]
        return counts


DUE_STATUSES = (EmailStatus.QUEUED, EmailStatus.FAILED)


def _due(now: datetime):
    return select(Email).where(*_due_filter(now))


def _due_filter(now: datetime) -> tuple:
    return (
        Email.status.in_(DUE_STATUSES),
        or_(Email.next_attempt_at.is_(None), Email.next_attempt_at <= now),
        Email.claimed_by.is_(None),
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


def _claim(session: Session, *, now: datetime, size: int, token: str) -> list[Email]:
    """Claim up to ``size`` due mails for the run ``token`` in one durable commit; return them (detached), by id.

    The claim says "not yet handed over": a claimed mail is started ('sending') only by its run, and the
    claims of a run that died are re-queued by ``recover`` (or flagged, after a database restart).
    """
    due = select(Email.id).where(*_due_filter(now)).order_by(Email.id).limit(size).with_for_update(skip_locked=True)
    rows = session.scalars(
        update(Email)
        .where(Email.id.in_(due.scalar_subquery()))
        .values(claimed_by=token, claimed_at=func.now())
        .returning(Email),
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).all()
    session.commit()  # durable: the per-mail commits after it are not (see recover)
    for row in rows:
        session.expunge(row)  # read only, to build the mail while it is being marked 'sending'
    return sorted(rows, key=lambda row: row.id)


def _release(session: Session, token: str) -> None:
    """Give back the claims of a run that stops early (an error): those mails are due again at once."""
    session.execute(
        update(Email)
        .where(Email.claimed_by == token, Email.status.in_(DUE_STATUSES))
        .values(claimed_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )
    session.commit()


def recover(session: Session, *, now: datetime) -> tuple[int, int]:
    """Settle what dead senders left (call only when no sender is alive); return (re-queued, flagged).

    A claimed mail was never handed over: it is re-queued (audited). Unless the database restarted since
    the claim: then the cheap per-mail commits after it (e.g. 'sending', 'sent') may be lost, and the mail
    is flagged in doubt like a mail left in 'sending'.
    """
    restarted_at = session.scalar(text("SELECT pg_postmaster_start_time()"))
    claimed = session.scalars(select(Email).where(Email.claimed_by.is_not(None)).with_for_update()).all()
    requeued = 0
    for row in claimed:
        commits_may_be_lost = row.claimed_at < restarted_at
        row.claimed_by = row.claimed_at = None
        if commits_may_be_lost:
            row.status = EmailStatus.SENDING  # flagged below, like a mail left in 'sending'
            continue
        requeued += 1
        audit.record(
            session,
            actor=ACTOR,
            action="email.requeued",
            entity_type="email",
            entity_id=row.id,
            details={"fields": ["claimed_by", "claimed_at"], "why": "the sender stopped before handing it over"},
        )
    session.flush()
    return requeued, flag_in_doubt(session, now=now)


def _start(session: Session, email_id: int, *, token: str, sent: tuple[int, datetime] | None = None) -> Email | None:
    """Mark one mail claimed by ``token`` 'sending' (attempts + 1) and return it as stored now, else None.

    ``sent``: (id, sent_at) of the mail before it, recorded 'sent' in the same statement (``_sent_ctes``).
    """
    params: dict[str, Any] = {"start_id": email_id, "token": token}
    if sent is not None:
        params |= {"sent_email_id": sent[0], "sent_at_value": sent[1]}
    statement = _start_statement(with_sent=sent is not None)
    options = {"populate_existing": True, "synchronize_session": False}  # RETURNING refreshes the row
    return session.scalars(statement, params, execution_options=options).one_or_none()


@functools.cache
def _start_statement(*, with_sent: bool):
    # Built once: constructing these statements per mail cost as much as executing them.
    statement = (
        update(Email)
        .where(Email.id == bindparam("start_id"), Email.claimed_by == bindparam("token"))
        .where(Email.status.in_(DUE_STATUSES))
        # = SET LOCAL synchronous_commit = off (see _commit_lazily), without a round trip of its own
        .where(func.set_config("synchronous_commit", "off", True).is_not(None))
        .values(status=EmailStatus.SENDING, attempts=Email.attempts + 1, claimed_by=None, claimed_at=None)
        .returning(Email)
    )
    return statement.add_cte(*_sent_ctes()) if with_sent else statement


@functools.cache
def _sent_statement():
    done, *rest = _sent_ctes()
    return select(func.count()).select_from(done).add_cte(*rest)


def _sent_ctes() -> tuple:
    """Mark a mail 'sent' with its audit row and domain event, as CTEs for one round trip with the next mail.

    Parameters ``sent_email_id`` and ``sent_at_value``. The same rows ``_finish(..., "sent")`` writes through
    the audit and event services; one statement instead of four per mail (measured: the sender spent most of
    its time in round trips).
    """
    table = Email.__table__
    done = (
        update(table)
        .where(table.c.id == bindparam("sent_email_id", type_=Integer), table.c.status == EmailStatus.SENDING)
        .values(status=EmailStatus.SENT, sent_at=bindparam("sent_at_value", type_=DateTime(timezone=True)))
        .values(last_error=None)
        .returning(table.c.id, table.c.attempts, table.c.template)
        .cte("sent_mail")
    )
    entity_id = cast(done.c.id, String)
    fields = func.jsonb_build_array(literal_column("'status'"), literal_column("'sent_at'"))
    details = func.jsonb_build_object(literal_column("'fields'"), fields, literal_column("'attempts'"), done.c.attempts)
    audit_row = insert(AuditEvent).from_select(
        ["actor", "action", "entity_type", "entity_id", "details"],
        select(literal(ACTOR), literal("email.sent"), literal("email"), entity_id, details),
    )
    payload = func.jsonb_build_object(literal_column("'template'"), done.c.template)
    event = insert(DomainEvent).from_select(
        ["event_type", "aggregate_type", "aggregate_id", "payload"],
        select(literal("email.sent"), literal("email"), entity_id, payload),
    )
    return done, audit_row.cte("sent_audit"), event.cte("sent_event")


def _finish(
    session: Session, row: Email, outcome: str, *, now: datetime, max_attempts: int, error: str | None = None
) -> str:
    """Write the result of one send into the current transaction; return the result ('sent', 'failed', ...)."""
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
    return result


def _commit_lazily(session: Session) -> None:
    # Visible to every other session at once, so a killed sender loses nothing. Only a database crash can
    # lose it; then the claim (committed durably) predates the restart and recover() flags the mail in doubt.
    session.execute(text("SET LOCAL synchronous_commit = off"))
    session.commit()


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


def _confirm_mark(marking: Future[Email | None], claimed: Email) -> None:
    """Wait for the 'sending' mark of ``claimed``; raise unless it marked the mail as claimed (content unchanged)."""
    row = marking.result()  # a failed mark raises here
    if row is None or _content(row) != _content(claimed):
        raise _NotAsClaimed


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
    Commits its own transactions (about one per mail). ``dry_run`` writes nothing.
    """
    settings = settings or get_settings()
    if limit is not None and limit < 1:
        raise ValidationError(_at_least_one("limit", limit), field="limit")
    if batch_size < 1:
        raise ValidationError(_at_least_one("batch size", batch_size), field="batch_size")
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
    with engine.connect() as alive:  # holds the shared "a sender is alive" lock in one open transaction
        with Session(bind=alive) as session:
            if session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SENDER_LOCK_KEY}):
                report.requeued, report.flagged_in_doubt = recover(session, now=now)
            session.commit()
        alive.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": SENDER_LOCK_KEY})  # held till the end
        token = str(uuid.uuid4())
        try:
            with (
                Session(engine, expire_on_commit=False) as session,
                engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lane,
                Session(bind=lane, expire_on_commit=False) as fast,
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sender-mark") as marker,
            ):
                run = _Run(session, report, token=token, settings=settings, transport=transport, clock=clock,
                           fast=fast, marker=marker)  # fmt: skip
                try:
                    while limit is None or report.claimed < limit:
                        size = batch_size if limit is None else min(batch_size, limit - report.claimed)
                        claimed = _claim(session, now=now, size=size, token=token)
                        if not claimed or not run.send_batch(claimed):
                            break
                except BaseException:
                    session.rollback()
                    with contextlib.suppress(SQLAlchemyError):
                        _release(session, token)
                    raise
        finally:
            transport.close()
            alive.rollback()
    return report


class _NotAsClaimed(Exception):
    """The mark found the mail no longer claimed, or changed since the claim: its "." must not be sent."""


def _content(row: Email) -> tuple:
    return row.to_address, row.subject, row.body_text, row.body_html, row.message_id


class _Run:
    """Hand over claimed mails one by one; at most one mail is ever 'sending' (in doubt if the process dies).

    Each mail is marked 'sending' in its own (lazy) commit before the server may accept it; the 'sent' of the
    mail before it rides along in that same statement (with its audit row and event), so a mail costs one
    statement and one commit. That statement runs on a second thread while the mail goes to the server
    (MAIL, RCPT, DATA and the body); only the final "." of DATA waits for it. A server delivers nothing whose
    "." it has not received, so a mark that fails, or a process that dies before the ".", delivers nothing.
    """

    def __init__(
        self,
        session: Session,
        report: SendReport,
        *,
        token: str,
        settings: Settings,
        transport: Transport,
        clock: Callable[[], datetime],
        fast: Session,
        marker: Executor,
    ) -> None:
        self.session, self.report, self.settings, self.token = session, report, settings, token
        self.fast = fast  # autocommit: each statement is its own transaction, one round trip (no BEGIN, COMMIT)
        self.marker = marker  # one thread: runs the 'sending' marks on ``fast`` while this thread talks SMTP
        self.transport, self.clock = transport, clock
        self.accepted: tuple[Email, datetime] | None = None  # accepted by the server, 'sent' not yet written

    def _settled_with_next(self) -> tuple[int, datetime] | None:
        """Write the accepted mail's 'sent' now (ORM, an inquiry moves too) or return it to ride along."""
        if self.accepted is None:
            return None
        row, sent_at = self.accepted
        self.accepted = None
        self.report.sent += 1
        if row.template == "inquiry" and row.inquiry_id is not None:  # its inquiry moves to 'sent' as well
            _finish(self.session, self._own(row), "sent", now=sent_at, max_attempts=self.settings.send_max_attempts)
            _commit_lazily(self.session)  # before the next mail is marked 'sending'
            return None
        return row.id, sent_at

    def _own(self, row: Email) -> Email:
        """The row as started in the autocommit lane, in the transactional session (no query)."""
        return self.session.merge(row, load=False)

    def _settle_accepted(self) -> None:
        if (sent := self._settled_with_next()) is not None:
            self.session.execute(_sent_statement(), {"sent_email_id": sent[0], "sent_at_value": sent[1]})

    def _fail(self, row: Email, outcome: str, error: str) -> None:
        self.report.errors.append(f"email {row.id}: {error}")
        result = _finish(self.session, self._own(row), outcome, now=self.clock(),
                         max_attempts=self.settings.send_max_attempts, error=error)  # fmt: skip
        self._count(result)

    def _hand_over(self, claimed: Email, marking: Future[Email | None]) -> tuple[Email | None, Exception | None]:
        """Send ``claimed`` while ``marking`` marks it 'sending'; return (the row as marked, or None, and the error).

        The final "." waits for the mark. When the mark finds the mail no longer ours, nothing is delivered;
        when it finds the content changed since the claim (e.g. rewritten by an erasure), nothing is delivered
        and the mail is sent again as stored now. A failed mark raises (after closing the connection).
        """
        try:
            message = build_message(claimed, mail_from=self.settings.mail_from, now=self.clock())
        except (ValueError, TypeError):
            pass  # decided on the mail as marked
        else:
            try:
                self.transport.send(message, before_end=functools.partial(_confirm_mark, marking, claimed))
                return marking.result(), None
            except _NotAsClaimed:
                pass
            except (ConnectFailed, OSError, smtplib.SMTPException) as exc:
                return marking.result(), exc
        if (row := marking.result()) is None:
            return None, None
        try:
            message = build_message(row, mail_from=self.settings.mail_from, now=self.clock())
        except (ValueError, TypeError) as exc:  # e.g. a header the mail library refuses: never handed over
            return row, exc
        try:
            self.transport.send(message)
        except (ConnectFailed, OSError, smtplib.SMTPException) as exc:
            return row, exc
        return row, None

    def send_batch(self, claimed: list[Email]) -> bool:
        """Send the claimed mails; return False when the SMTP server is unavailable (stop the run)."""
        try:
            for index, mail in enumerate(claimed):
                # one autocommitted statement (lazy commit, see _start_statement), under way during the SMTP exchange
                marking = self.marker.submit(_start, self.fast, mail.id, token=self.token,
                                             sent=self._settled_with_next())  # fmt: skip
                row, exc = self._hand_over(mail, marking)
                if row is None:
                    continue  # no longer ours or due (e.g. erased meanwhile)
                self.report.claimed += 1
                if exc is None:
                    self.accepted = (row, self.clock())
                    continue
                error = f"{type(exc).__name__}: {exc}"[:2000]
                if isinstance(exc, (ValueError, TypeError)):
                    self._fail(row, "permanent", error)
                    _commit_lazily(self.session)
                    continue
                self._fail(row, classify(exc), error)
                if isinstance(exc, ConnectFailed):
                    self.report.smtp_unavailable = True
                    for rest in claimed[index + 1 :]:  # never handed over: certainly not delivered, retry later
                        if (later := _start(self.session, rest.id, token=self.token)) is not None:
                            self.report.claimed += 1
                            self._fail(later, "temporary", error)
                    _commit_lazily(self.session)
                    return False
                _commit_lazily(self.session)
        except BaseException:
            if self.accepted is not None:  # the run breaks off, but the server has this mail: say so if we can
                self.session.rollback()
                with contextlib.suppress(SQLAlchemyError):
                    self._settle_accepted()
                    _commit_lazily(self.session)
            raise
        self._settle_accepted()
        _commit_lazily(self.session)
        return True

    def _count(self, result: str) -> None:
        _count(self.report, result)


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

        raise NotFound(messages.missing("email", email_id))
    if not row.needs_review or row.status != EmailStatus.SENDING:
        raise IllegalTransition(
            messages.Message(
                "mail.not_in_review",
                "Email {email} does not await review (status {status})",
                email=str(email_id),
                status=messages.status("mail", row.status),
            )
        )
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
    emit(session, f"email.review_{result}", aggregate_type="email", aggregate_id=row.id,
         payload={"status": row.status.value})  # fmt: skip
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
            "message_id": row.message_id,
            "template": row.template,
            "attempts": row.attempts,
            "last_error": row.last_error or "",
            "updated_at": row.updated_at,
        }
        for row in problems
    ]
    waiting = session.execute(
        select(Email.id, Email.status, Email.to_address, Email.subject, Email.next_attempt_at, Email.created_at)
        .where(Email.status.in_((EmailStatus.QUEUED, EmailStatus.FAILED)))
        .order_by(Email.created_at, Email.id)
        .limit(limit)
    ).all()
    queue = [
        {"id": row.id, "status": row.status.value, "to": row.to_address, "subject": row.subject,
         "due_at": row.next_attempt_at, "created_at": row.created_at}
        for row in waiting
    ]  # fmt: skip
    return {"counts": counts, "problems": rows, "waiting": queue}


def content(session: Session, *, email_id: int) -> dict[str, Any]:
    """Return one outbox mail as it will go out (or went out): addresses, subject, text and HTML; NotFound if unknown.

    Staff read a queued mail before the sender job sends it (e.g. outside the sending window).
    """
    row = session.get(Email, email_id)
    if row is None:
        raise NotFound(messages.missing("email", email_id))
    return {"id": row.id, "status": row.status.value, "to": row.to_address, "subject": row.subject,
            "text": row.body_text, "html": row.body_html, "created_at": row.created_at,
            "sent_at": row.sent_at, "due_at": row.next_attempt_at}  # fmt: skip
