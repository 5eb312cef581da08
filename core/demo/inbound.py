"""Received mail of the demo: a few practices' replies and one bounce, filed like ``jobs.fetch_mail`` files them.

The mails are built as the server would hand them over (RFC 5322 bytes, a DSN for the bounce), read by
``core.communication.inbound.parse`` and stored by ``core.communication.inbound_store.file_mail``: the
thread, the failing address, the phone step of a bounced inquiry and the counts on "Heute" are therefore
exactly what a real fetch would produce. Runs after the demo rows are written; does not commit.

Example:
    with session_scope() as session:
        file_demo_mail(session, now=demo_now(date(2026, 3, 2)))  # -> [Filed(...), ...]
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication import inbound, inbound_store
from core.communication.models import Email
from core.config import get_settings
from core.demo.markers import DEMO_ACTOR, DEMO_MESSAGE_ID_PREFIX
from core.matching.models import Inquiry, InquiryStatus

REPLIES = (  # questions practices send back instead of clicking the answer link: staff answer and mark them
    "vielen Dank für Ihre Anfrage. Bevor ich zusage: Können die Patient/innen auch dienstags um 8 Uhr? "
    "Dann hätte ich ab dem nächsten Quartal einen Platz.",
    "danke für die Anfrage. Ich bin bis Ende des Monats im Urlaub und melde mich danach mit einer Antwort.",
    "wir nehmen derzeit nur Patient/innen mit einer Diagnose aus dem Bereich F40 auf. Bitte schicken Sie uns "
    "dafür den Befund, dann entscheiden wir kurzfristig.",
)
HANDLED_REPLY = "wir haben eben über den Link in Ihrer Mail geantwortet. Viele Grüße aus der Praxis"
REPLY_DELAY = timedelta(hours=5)  # practices read mail between sessions
BOUNCE_DELAY = timedelta(minutes=3)  # the receiving server rejects the mail after accepting it
OPEN_STATUSES = (InquiryStatus.SENT, InquiryStatus.REMINDED)
MAILER_DAEMON = "MAILER-DAEMON@mx.example.net"


def file_demo_mail(session: Session, *, now: datetime) -> list[inbound_store.Filed]:
    """File the demo's replies and its bounce through the inbound store; return what was filed."""
    mail_from = get_settings().mail_from
    open_mails = _inquiry_mails(session, statuses=OPEN_STATUSES)
    answered = _inquiry_mails(session, statuses=(InquiryStatus.ANSWERED,))
    raws: list[bytes] = []
    # one open inquiry bounces: its address turns out to be gone, the ladder moves on to the phone
    if open_mails:
        bounced = open_mails.pop()
        raws.append(_bounce(bounced, at=_before(now, bounced.sent_at, BOUNCE_DELAY)))
    for mail, text in zip(open_mails, REPLIES, strict=False):
        raws.append(_reply(mail, text=text, mail_from=mail_from, at=_before(now, mail.sent_at, REPLY_DELAY)))
    if answered:  # a practice writes without answering any of our mails: staff sort it out by hand
        raws.append(_unmatched(answered[-1], at=now - timedelta(minutes=45)))
    handled = []
    if answered:
        mail = answered[0]
        raws.append(_reply(mail, text=HANDLED_REPLY, mail_from=mail_from, at=_before(now, mail.sent_at, REPLY_DELAY)))
        handled.append(len(raws) - 1)
    filed = [inbound_store.file_mail(session, parsed=inbound.parse(raw), now=now, actor=DEMO_ACTOR) for raw in raws]
    for index in handled:
        if filed[index].inbound_id is not None:
            inbound_store.mark_handled(session, inbound_id=filed[index].inbound_id, actor=DEMO_ACTOR, now=now)
    return filed


def _inquiry_mails(session: Session, *, statuses: tuple[InquiryStatus, ...]) -> list[Email]:
    """Return the first inquiry mail of each inquiry in ``statuses`` that went out, oldest inquiry first."""
    mails = session.scalars(
        select(Email)
        .join(Inquiry, Inquiry.id == Email.inquiry_id)
        .where(Inquiry.status.in_(statuses), Email.template == "inquiry", Email.status == "sent")
        .order_by(Inquiry.id, Email.id)
    )
    seen: dict[int, Email] = {}
    for mail in mails:
        seen.setdefault(mail.inquiry_id, mail)
    return list(seen.values())[: len(REPLIES) + 1]


def _before(now: datetime, sent_at: datetime | None, delay: timedelta) -> datetime:
    """Return ``sent_at + delay``, but never later than a minute before ``now``."""
    latest = now - timedelta(minutes=1)
    return min(sent_at + delay, latest) if sent_at else latest


def _reply(mail: Email, *, text: str, mail_from: str, at: datetime) -> bytes:
    reply = EmailMessage()
    reply["From"] = mail.to_address
    reply["To"] = inbound.reply_address(mail_from, mail.id)
    reply["Subject"] = f"AW: {mail.subject}"
    reply["Message-ID"] = f"{DEMO_MESSAGE_ID_PREFIX}reply-{mail.id}@praxis.example.net>"
    reply["In-Reply-To"] = mail.message_id
    reply["References"] = mail.message_id
    reply["Date"] = format_datetime(at)
    reply.set_content(f"Guten Tag,\n\n{text}\n")
    return bytes(reply)


def _unmatched(mail: Email, *, at: datetime) -> bytes:
    news = EmailMessage()
    news["From"] = mail.to_address
    news["To"] = get_settings().mail_from
    news["Subject"] = "Neue Telefonzeiten unserer Praxis"
    news["Message-ID"] = f"{DEMO_MESSAGE_ID_PREFIX}news-{mail.id}@praxis.example.net>"
    news["Date"] = format_datetime(at)
    news.set_content("Guten Tag,\n\nab sofort erreichen Sie uns telefonisch Mo-Do von 8 bis 9 Uhr.\n")
    return bytes(news)


def _bounce(mail: Email, *, at: datetime) -> bytes:
    return f"""\
From: Mail Delivery System <{MAILER_DAEMON}>
To: {get_settings().mail_from}
Subject: Unzustellbar: {mail.subject}
Message-ID: {DEMO_MESSAGE_ID_PREFIX}bounce-{mail.id}@mx.example.net>
Date: {format_datetime(at)}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="demo-dsn"

--demo-dsn
Content-Type: text/plain; charset=utf-8

Die Nachricht konnte nicht zugestellt werden: das Postfach existiert nicht mehr.

--demo-dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {mail.to_address}
Original-Recipient: rfc822; {mail.to_address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable

--demo-dsn
Content-Type: text/rfc822-headers

From: {get_settings().mail_from}
To: {mail.to_address}
Message-ID: {mail.message_id}

--demo-dsn--
""".replace("\n", "\r\n").encode()
