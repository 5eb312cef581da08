"""Encrypt small secrets (TOTP seeds, unsaved form input) with a key derived from SECRET_KEY: a dump reveals nothing.

Example:
    sealed = seal("JBSWY3DPEHPK3PXP", secret_key=settings.resolved_secret_key())
    unseal(sealed, secret_key=settings.resolved_secret_key())  # -> "JBSWY3DPEHPK3PXP"

Fernet (AES-128-CBC + HMAC-SHA256) with a key from HKDF-SHA256 over SECRET_KEY. Changing SECRET_KEY makes
sealed secrets unreadable: those users enrol their authenticator again (an admin resets it).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import AuthenticationError
from core.messages import Message

PURPOSE = b"placement-workbench totp secret v1"  # a different purpose would derive a different key


def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: str, *, secret_key: str, purpose: bytes = PURPOSE) -> str:
    """Return ``plaintext`` encrypted and authenticated, as text for a database column (``purpose`` picks the key)."""
    return _fernet(secret_key, purpose).encrypt(plaintext.encode()).decode()


def unseal(sealed: str, *, secret_key: str, purpose: bytes = PURPOSE) -> str:
    """Return the plaintext of ``sealed``; raise AuthenticationError if SECRET_KEY changed or it was tampered with."""
    try:
        return _fernet(secret_key, purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise AuthenticationError(
            Message(
                "auth.totp_unreadable",
                "The stored two-factor secret cannot be read (SECRET_KEY changed?); "
                "an admin must reset two-factor login",
            ),
            code="totp_unreadable",
        ) from None
