"""Contact details shared by patients and therapists: e-mail syntax and German phone numbers.

Example:
    normalise_phone("030 1234567", field="phone")  ->  "+49301234567"
    validate_email(" Anna@Example.org ", field="email")  ->  "Anna@Example.org"
"""

from __future__ import annotations

import re

import phonenumbers

from core.errors import ValidationError
from core.messages import Message

# Pragmatic syntax check (RFC 5322 is far wider); deliverability is proven by sending, not by regex.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def validate_email(value: str | None, *, field: str = "email") -> str | None:
    """Return the trimmed address, None for empty input, or raise ValidationError naming ``field``."""
    if value is None or not value.strip():
        return None
    address = value.strip()
    if not EMAIL_PATTERN.match(address) or ".." in address:
        raise ValidationError(
            Message(
                "validation.email",
                "E-mail '{value}' is not a valid address, e.g. anna.schmidt@example.org",
                value=address,
            ),
            field=field,
        )
    return address


PHONE_INVALID = "Phone '{value}' is not a phone number, e.g. 030 1234567 or +49 30 1234567"
PHONE_IMPOSSIBLE = "Phone '{value}' is not a possible number, e.g. 030 1234567 or +49 30 1234567"


def normalise_phone(value: str | None, *, field: str = "phone") -> str | None:
    """Return a German (or international) number in E.164, None for empty input; reject impossible numbers."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    try:
        number = phonenumbers.parse(raw, "DE")
    except phonenumbers.NumberParseException:
        raise ValidationError(Message("validation.phone_invalid", PHONE_INVALID, value=raw), field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(Message("validation.phone_impossible", PHONE_IMPOSSIBLE, value=raw), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """Return a stored E.164 number in the national format staff dial, e.g. '030 1234567'."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "DE")
    except phonenumbers.NumberParseException:
        return e164  # stored before numbers were validated: show it rather than break the page
    region = "DE" if number.country_code == 49 else None
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if region else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)
