"""ICD-10 chapter V (mental and behavioural disorders, F00-F99): read codes and apply the hierarchy.

A code is a category (F40) or a subcode of it (F40.1, ICD-10-GM also F45.40). A preference covers a
diagnosis when the diagnosis is the same code or lies below it:

    parse_icd10(" f32,1 ")  ->  "F32.1"
    covers("F40", "F40.1")    ->  True    (the category covers its subcodes)
    covers("F40.1", "F40.2")  ->  False   (siblings do not cover each other)
    covers("F40.1", "F40")    ->  False   (a subcode does not cover its category)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import ValidationError
from core.messages import Message

_CODE = re.compile(r"^F(\d{2})(?:\.?(\d{1,2}))?$")
EXAMPLE = "F32.1"


def parse_icd10(code: str, *, field: str = "diagnoses") -> str:
    """Return the code in canonical form ("F32.1"); raise ValidationError naming the code and an example.

    Accepts lower case, surrounding blanks, a decimal comma ("F32,1") and a missing dot ("F321").
    """
    text = str(code).strip().upper().replace(",", ".")
    match = _CODE.match(text)
    if match is None:
        raise ValidationError(
            Message(
                "validation.icd10",
                "Diagnosis '{value}' is not an ICD-10 code of chapter V; "
                "use F00-F99 with an optional subcode, e.g. {example}",
                value=str(code).strip(),
                example=EXAMPLE,
            ),
            field=field,
        )
    category, sub = match.groups()
    return f"F{category}.{sub}" if sub else f"F{category}"


def parse_icd10_list(values: str | Iterable[str] | None, *, field: str = "diagnoses") -> list[str]:
    """Return sorted, de-duplicated canonical codes from a list or a text like "F32.1, F40 F41"."""
    if values is None:
        return []
    items = re.split(r"[\s;]+|,\s+|,(?=F)", values, flags=re.IGNORECASE) if isinstance(values, str) else values
    return sorted({parse_icd10(item, field=field) for item in items if str(item).strip()})


def covers(preference: str, diagnosis: str) -> bool:
    """Return whether ``preference`` (e.g. a therapist's focus) includes ``diagnosis`` in the hierarchy.

    Both are canonical codes (see ``parse_icd10``).
    """
    if diagnosis == preference:
        return True
    if "." in preference:
        return diagnosis.startswith(preference)  # F45.4 covers F45.40 and F45.41
    return diagnosis.startswith(preference + ".")


def covers_any(preferences: Iterable[str], diagnoses: Iterable[str]) -> bool:
    """Return whether any preference covers any diagnosis (callers decide what an empty list means)."""
    wanted = list(preferences)
    return any(covers(preference, diagnosis) for diagnosis in diagnoses for preference in wanted)
