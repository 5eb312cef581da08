"""Read one inbound mail (a reply or a delivery-failure report) into plain values: pure, no session, no I/O.

Replies are matched to the mail they answer by the per-mail reply address (``MAIL_FROM`` with ``+m<mail
id>`` before the @, set as Reply-To on every outgoing mail), by ``In-Reply-To``/``References`` naming a
stored Message-ID, or by an inquiry reference (A-2026-000123) in the subject. Delivery-failure reports are
DSNs (RFC 3464: ``multipart/report; report-type=delivery-status``): the failed recipient comes from the
``Final-Recipient`` of a recipient block with ``Action: failed``, the mail that failed from the returned
headers' Message-ID. A DSN that reports only a delay is not a failure. Example:

    parsed = parse(raw_bytes)
    parsed.is_bounce, parsed.failed_address, parsed.original_message_id
    reply_mail_id(parsed.recipients, mail_from="vermittlung@example.org")  # -> 42 for vermittlung+m42@...
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message

MAX_BODY_CHARACTERS = 50_000  # a reply's text, quoted history included; longer mails are cut, never refused
MESSAGE_ID = re.compile(r"<[^<>\s]{1,298}>")
REFERENCE = re.compile(r"\bA-\d{4}-\d{6}\b")  # inquiry references, see core.matching.references
REPLY_TAG = re.compile(r"m([0-9]{1,12})")


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    received_at: datetime | None
    from_address: str | None
    subject: str
    body_text: str
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, X-Original-To (lower case)
    answers_ids: tuple[str, ...]  # Message-IDs named by In-Reply-To and References, nearest first
    references: tuple[str, ...]  # inquiry references in the subject
    is_bounce: bool = False
    failed_address: str | None = None
    original_message_id: str | None = None
    diagnostic: str = ""


def reply_address(mail_from: str, email_id: int) -> str:
    """Return the reply address of our mail ``email_id``: vermittlung@example.org -> vermittlung+m42@example.org."""
    local, _, domain = email.utils.parseaddr(mail_from)[1].partition("@")
    return f"{local.partition('+')[0]}+m{int(email_id)}@{domain}"


def reply_mail_id(recipients: tuple[str, ...], *, mail_from: str) -> int | None:
    """Return the id of our mail whose reply address is among ``recipients``, else None."""
    local, _, domain = email.utils.parseaddr(mail_from)[1].lower().partition("@")
    base = local.partition("+")[0]
    for address in recipients:
        name, _, host = address.lower().partition("@")
        own, _, tag = name.partition("+")
        match = REPLY_TAG.fullmatch(tag)
        if own == base and host == domain and match:
            return int(match[1])
    return None


def _message_ids(value: object) -> tuple[str, ...]:
    return tuple(MESSAGE_ID.findall(str(value or "")))


def _addresses(message: Message, *names: str) -> tuple[str, ...]:
    values = [str(v) for name in names for v in message.get_all(name, [])]
    return tuple(address.lower() for _, address in email.utils.getaddresses(values) if "@" in address)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: keep what can be read
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        content = re.sub(r"<[^>]+>", " ", content)
    return content[:MAX_BODY_CHARACTERS]


def _received_at(message: Message) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _field(block: Message, name: str) -> str:
    value = str(block.get(name, "") or "")
    return value.partition(";")[2].strip() if ";" in value else value.strip()


def _delivery_report(message: Message) -> tuple[bool, str | None, str | None, str]:
    """Return (failed, failed address, original Message-ID, diagnostic) of a DSN; (False, ...) otherwise."""
    status = next((p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status is None:
        return False, None, None, ""
    failed_address, diagnostic = None, ""
    for block in status.get_payload() if status.is_multipart() else []:
        if str(block.get("Action", "")).strip().lower() == "failed":
            failed_address = (_field(block, "Final-Recipient") or _field(block, "Original-Recipient")).lower()
            diagnostic = " ".join(f"{_field(block, 'Status')} {_field(block, 'Diagnostic-Code')}".split())
            break
    original = None
    for part in message.walk():
        if part.get_content_type() == "text/rfc822-headers":
            headers = email.message_from_string(_payload_text(part))
            original = next(iter(_message_ids(headers.get("Message-ID"))), None)
        elif part.get_content_type() == "message/rfc822" and part.is_multipart():
            original = next(iter(_message_ids(part.get_payload()[0].get("Message-ID"))), None)
        if original:
            break
    return failed_address is not None, failed_address or None, original, diagnostic[:500]


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return str(part.get_payload())


def parse(raw: bytes) -> ParsedMail:
    """Read a mail as it came from the server (RFC 5322 bytes)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    found = _message_ids(message.get("Message-ID"))
    # a mail without Message-ID still needs a stable key: fetching it twice must store it once
    message_id = found[0] if found else f"<sha256-{hashlib.sha256(raw).hexdigest()}@inbound.invalid>"
    answers = _message_ids(message.get("In-Reply-To")) + tuple(reversed(_message_ids(message.get("References"))))
    failed, failed_address, original, diagnostic = _delivery_report(message)
    subject = " ".join(str(message.get("Subject", "")).split())
    from_address = email.utils.parseaddr(str(message.get("From", "")))[1].lower() or None
    return ParsedMail(
        message_id=message_id,
        received_at=_received_at(message),
        from_address=from_address,
        subject=subject[:300],
        body_text=_text(message),
        recipients=_addresses(message, "To", "Cc", "Delivered-To", "X-Original-To"),
        answers_ids=tuple(dict.fromkeys(answers)),
        references=tuple(dict.fromkeys(REFERENCE.findall(subject))),
        is_bounce=failed,
        failed_address=failed_address,
        original_message_id=original,
        diagnostic=diagnostic,
    )
