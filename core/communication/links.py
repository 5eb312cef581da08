"""Signed, expiring answer links: one token per inquiry item (HMAC-SHA256 over item id and expiry).

A token is ``<item id>.<expiry as unix seconds>.<signature>``, URL-safe (digits, dots and base64url), so
it travels in ``/answer?token=...`` unchanged. The signature covers a purpose prefix, the item id and the
expiry; it is compared in constant time. Example:

    token = make_token(7, secret=settings.resolved_secret_key(), expires_at=now + timedelta(days=42))
    read_token(token, secret=settings.resolved_secret_key(), now=now)  # -> 7
    answer_url(settings.public_base_url, token)  # -> "https://vermittlung.example.org/answer?token=7.17..."
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import quote

from core.errors import ValidationError
from core.messages import Message

PURPOSE = b"answer-link:v1"
# ASCII digits only: int() also reads "٧" (Arabic-Indic) or "７" (fullwidth) as 7, so a changed token would
# name the same item
SHAPE = re.compile(r"([0-9]{1,12})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


class LinkError(ValidationError):
    """An answer link that cannot be used: tampered (``reason='invalid'``) or expired (``reason='expired'``)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, field="token")
        self.reason = reason


def _signature(secret: str, item_id: int, expires: int, purpose: bytes = PURPOSE) -> str:
    message = purpose + f":{item_id}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(item_id: int, *, secret: str, expires_at: datetime, purpose: bytes = PURPOSE) -> str:
    """Return the signed token for ``item_id`` valid until ``expires_at`` (timezone-aware).

    ``purpose`` separates kinds of links (answer, patient status, therapist capacity): a token signed for one
    purpose is invalid for every other, even for the same number.
    """
    if not secret:
        raise ValidationError(
            Message("link.secret_missing", "An answer link needs a secret key, e.g. SECRET_KEY=<48 random characters>"),
            field="secret",
        )
    if expires_at.tzinfo is None:
        raise ValidationError(
            Message(
                "link.expiry_without_timezone",
                "expires_at must carry a timezone, e.g. datetime(2026, 12, 1, tzinfo=UTC)",
            ),
            field="expires_at",
        )
    expires = int(expires_at.timestamp())
    return f"{int(item_id)}.{expires}.{_signature(secret, int(item_id), expires, purpose)}"


def read_token(token: str | None, *, secret: str, now: datetime, purpose: bytes = PURPOSE) -> int:
    """Return the item id of a valid token; raise LinkError (reason 'invalid' or 'expired') otherwise."""
    match = SHAPE.fullmatch((token or "").strip())
    if match is None:
        raise LinkError(
            Message(
                "link.answer_invalid",
                "This answer link is incomplete or was changed; open the link exactly as it came in the e-mail",
            ),
            reason="invalid",
        )
    item_id, expires, signature = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(signature, _signature(secret, item_id, expires, purpose)):
        raise LinkError(
            Message(
                "link.answer_invalid",
                "This answer link is incomplete or was changed; open the link exactly as it came in the e-mail",
            ),
            reason="invalid",
        )
    expired_at = datetime.fromtimestamp(expires, UTC)
    if now >= expired_at:
        raise LinkError(
            Message(
                "link.answer_expired",
                "This answer link expired on {day:%d.%m.%Y}; please answer by phone or reply to the e-mail",
                day=expired_at,
            ),
            reason="expired",
        )
    return item_id


def answer_url(base_url: str, token: str, *, page: str = "answer") -> str:
    """Return the public page address for ``token``: ``<PUBLIC_BASE_URL>/answer?token=...``."""
    return f"{base_url.rstrip('/')}/{page}?token={quote(token, safe='.-_')}"
