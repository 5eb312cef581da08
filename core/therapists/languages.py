"""Languages a therapist offers sessions in: ISO 639-1 two-letter codes (the column holds two letters).

Example: ``parse_languages("DE, en")`` -> ``["de", "en"]``
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import ValidationError
from core.messages import Message

# Every ISO 639-1 code (Library of Congress registry); 116117 lists therapists in many of them.
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
    io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
    mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
    vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 - a block of codes reads better than 184 quoted strings
)


def parse_languages(value: str | Iterable[str] | None, *, field: str = "languages") -> list[str]:
    """Return lower-case ISO 639-1 codes, German first, without repeats; at least one is required."""
    items = re.split(r"[\s,;/]+", value) if isinstance(value, str) else list(value or [])
    codes = [str(item).strip().lower() for item in items if str(item).strip()]
    if not codes:
        raise ValidationError(
            Message("validation.languages_empty", "Languages: name at least one ISO 639-1 code, e.g. de"), field=field
        )
    unknown = [code for code in codes if code not in ISO_639_1]
    if unknown:
        raise ValidationError(
            Message(
                "validation.language_code",
                "Language '{code}' is not an ISO 639-1 two-letter code; use e.g. de, en, tr",
                code=unknown[0],
            ),
            field=field,
        )
    unique = sorted(set(codes))
    return (["de"] if "de" in unique else []) + [code for code in unique if code != "de"]
