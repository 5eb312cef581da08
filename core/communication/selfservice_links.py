"""Signed, expiring self-service links: "Mein Stand" for a patient, "Kapazität melden" for a therapist.

The same HMAC machinery as the answer links (core.communication.links), each kind with its own purpose, so an
answer token never opens a patient's page and a therapist's link never opens another kind. Links stay valid
ANSWER_LINK_DAYS; every mail that carries one carries a fresh one. Example:

    patient_url(12, now=now)   # -> "https://vermittlung.example.org/mein_stand?token=12.1769..."
    read_patient(token, now=now)  # -> 12, or LinkError (reason 'invalid' or 'expired')
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.communication import links
from core.config import Settings, get_settings

PATIENT_PURPOSE = b"patient-status:v1"
THERAPIST_PURPOSE = b"therapist-capacity:v1"
PATIENT_PAGE = "mein_stand"
THERAPIST_PAGE = "kapazitaet"


def _url(record_id: int, *, purpose: bytes, page: str, now: datetime, settings: Settings | None,
         secret: str | None = None) -> str:  # fmt: skip
    settings = settings or get_settings()
    token = links.make_token(record_id, secret=secret or settings.resolved_secret_key(), purpose=purpose,
                             expires_at=now + timedelta(days=settings.answer_link_days))  # fmt: skip
    return links.answer_url(settings.public_base_url, token, page=page)


def patient_url(patient_id: int, *, now: datetime, settings: Settings | None = None) -> str:
    """Return the patient's "Mein Stand" address, valid ANSWER_LINK_DAYS from ``now``."""
    return _url(patient_id, purpose=PATIENT_PURPOSE, page=PATIENT_PAGE, now=now, settings=settings)


def capacity_url(therapist_id: int, *, now: datetime, settings: Settings | None = None,
                 secret: str | None = None) -> str:  # fmt: skip
    """Return the therapist's "Kapazität melden" address, valid ANSWER_LINK_DAYS from ``now``.

    ``secret``: the settings' resolved secret key, when the caller already has it (many links at once).
    """
    return _url(therapist_id, purpose=THERAPIST_PURPOSE, page=THERAPIST_PAGE, now=now, settings=settings, secret=secret)


def read_patient(token: str | None, *, now: datetime, settings: Settings | None = None) -> int:
    """Return the patient id of a valid "Mein Stand" token; raise LinkError otherwise."""
    secret = (settings or get_settings()).resolved_secret_key()
    return links.read_token(token, secret=secret, now=now, purpose=PATIENT_PURPOSE)


def read_therapist(token: str | None, *, now: datetime, settings: Settings | None = None) -> int:
    """Return the therapist id of a valid "Kapazität melden" token; raise LinkError otherwise."""
    secret = (settings or get_settings()).resolved_secret_key()
    return links.read_token(token, secret=secret, now=now, purpose=THERAPIST_PURPOSE)
