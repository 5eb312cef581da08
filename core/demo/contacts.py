"""Contact details that reach nobody: reserved example.* mail domains and reserved "drama" phone numbers."""

from __future__ import annotations

import random
import re
import unicodedata

MAIL_DOMAINS = ("example.org", "example.com", "example.net")  # RFC 2606: reserved, never delivered
# Bundesnetzagentur, Amtsblatt 7/2021 Mitteilung 148: 1,000 numbers each in Berlin, Frankfurt, Hamburg,
# Köln and München that are never assigned to anyone ("Drama Numbers" for films and teaching material).
DRAMA_NUMBER_BLOCKS = ("+493023125", "+496990009", "+494066969", "+492214710", "+498999998")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def phone_number(rng: random.Random) -> str:
    """Return a German phone number in E.164 form that belongs to no one, e.g. +493023125417."""
    return f"{rng.choice(DRAMA_NUMBER_BLOCKS)}{rng.randrange(1000):03d}"


def slug(text: str) -> str:
    """Return ``text`` as lower-case ASCII for mail addresses, e.g. ``slug("Jürgen-Groß")`` -> "juergen-gross"."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def mail_address(local_part: str, rng: random.Random) -> str:
    """Return ``local_part`` at one of the reserved example domains."""
    return f"{local_part}@{rng.choice(MAIL_DOMAINS)}"
