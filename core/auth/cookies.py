"""The login cookie's value: the session's cookie token, signed with SECRET_KEY so a forged value is refused unread.

Example:
    value = sign("k3J...", secret_key=key)       # "k3J....<hmac>", set by POST /auth/session
    unsign(value, secret_key=key)                # "k3J..."; None for a forged or damaged value

The cookie itself is HTTP-only, SameSite=Strict, Secure over https and path "/" (dashboards/server.py).
"""

from __future__ import annotations

import hashlib
import hmac

NAME = "workbench_session"
_PURPOSE = b"login-cookie"  # its own key, so a signature made for anything else never fits here


def _signature(token: str, secret_key: str) -> str:
    key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def sign(token: str, *, secret_key: str) -> str:
    """Return the cookie value for ``token``: the token, a dot, its HMAC-SHA256."""
    return f"{token}.{_signature(token, secret_key)}"


def unsign(value: str | None, *, secret_key: str) -> str | None:
    """Return the token inside a cookie value, or None when it is missing, damaged or signed with another key."""
    if not isinstance(value, str):
        return None
    token, dot, signature = value.rpartition(".")
    if not dot or not token or not hmac.compare_digest(signature, _signature(token, secret_key)):
        return None
    return token
