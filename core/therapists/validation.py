"""Clean and validate therapist input from forms and imports; every bad field is reported at once.

Example:
    clean_therapist(session, {"first_name": "Anna", "last_name": "Schmidt", "postcode": "1011", ...},
                    today=date(2026, 11, 26))
    -> ValidationError(errors={"postcode": "PLZ '1011' must have 5 digits, e.g. 10115"})
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from core.contact import normalise_phone, validate_email
from core.errors import ValidationError
from core.geo.addresses import clean_postcode as geo_clean_postcode
from core.geo.models import Postcode
from core.icd10 import parse_icd10_list
from core.messages import Message, field_name
from core.patients.models import Gender, GenderWish
from core.therapists.languages import parse_languages
from core.therapists.models import AgeGroup, Procedure, Setting, TherapistSource
from core.therapists.phone_hours import normalise_phone_hours

PLZ_PATTERN = re.compile(r"^\d{5}$")
HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$")
MAX_PATIENT_AGE = 110  # the oldest patients placement services see; beyond that a typo is likelier
PROCEDURE_EXAMPLE = "VT individual adults"

# The fields staff edit, in form order; the ones without a default must be given on create.
FIELDS = (
    "title", "first_name", "last_name", "gender", "street", "postcode", "city", "phone", "email", "website",
    "procedures", "languages", "phone_hours", "pref_age_min", "pref_age_max", "pref_patient_gender",
    "pref_diagnoses", "statutory_licence", "accepting_patients", "accepting_confirmed_on", "source",
    "last_verified_on", "notes",
)  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "title": None, "gender": "unknown", "street": None, "city": None, "phone": None, "email": None,
    "website": None, "languages": ["de"], "phone_hours": {}, "pref_age_min": None, "pref_age_max": None,
    "pref_patient_gender": "any", "pref_diagnoses": [], "statutory_licence": True, "accepting_patients": None,
    "accepting_confirmed_on": None, "source": "manual", "last_verified_on": None, "notes": None,
}  # fmt: skip


def clean_postcode(session: Session, value: Any, *, field: str = "postcode") -> Postcode:
    """Return the postcode row of a 5-digit German PLZ; a therapist record cannot do without one."""
    if not str(value or "").strip():
        raise ValidationError(
            Message(
                "validation.required_example",
                "PLZ is required, e.g. {example}",
                field=field_name(field),
                example="10115",
            ),
            field=field,
        )
    return geo_clean_postcode(session, str(value), field=field)


LABELS = {"title": "Title", "first_name": "First name", "last_name": "Last name", "street": "Street", "city": "City"}


def _text(value: Any, *, field: str, max_length: int, required: bool = False, example: str = "") -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    label = LABELS.get(field, field)
    if not text:
        if required:
            raise ValidationError(
                Message(
                    "validation.required_example",
                    f"{label} is required, e.g. {{example}}",
                    field=field_name(field),
                    example=example,
                ),
                field=field,
            )
        return None
    if len(text) > max_length:
        raise ValidationError(
            Message(
                "validation.too_long",
                f"{label} has {{length}} characters; at most {{max_length}} fit",
                field=field_name(field),
                length=len(text),
                max_length=max_length,
            ),
            field=field,
        )
    return text


def _notes(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    if len(text) > 5000:
        raise ValidationError(
            Message(
                "validation.too_long",
                "notes have {length} characters; at most {max_length} fit",
                field=field_name("notes"),
                length=len(text),
                max_length=5000,
            ),
            field="notes",
        )
    return text or None


def _choice(enum_cls: type[enum.Enum], value: Any, *, field: str) -> str:
    allowed = [member.value for member in enum_cls]
    text = str(value.value if isinstance(value, enum.Enum) else value or "").strip().lower()
    if text not in allowed:
        raise ValidationError(
            Message(
                "validation.not_one_of",
                "{field} '{value}' is not one of {options}",
                field=field_name(field),
                value=value,
                options=", ".join(allowed),
            ),
            field=field,
        )
    return text


def _website(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    url = text if re.match(r"^https?://", text, re.IGNORECASE) else f"https://{text}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if " " in url or not HOSTNAME.match(host) or parts.username or len(url) > 300:
        raise ValidationError(
            Message("validation.website", "Website '{value}' is not a web address, e.g. https://www.praxis-beispiel.de",
                    value=text),
            field="website",
        )  # fmt: skip
    return url


def _procedure_parts(item: Any) -> tuple[str, str, str]:
    if isinstance(item, Mapping):
        return str(item.get("procedure", "")), str(item.get("setting", "")), str(item.get("age_group", ""))
    parts = re.split(r"[\s/,;]+", item.strip()) if isinstance(item, str) else [str(part) for part in item]
    if len(parts) != 3:
        raise ValidationError(
            Message(
                "validation.procedure_parts",
                "Procedure offer '{value}' needs procedure, setting and age group, e.g. {example}",
                value=item,
                example=PROCEDURE_EXAMPLE,
            ),
            field="procedures",
        )
    return parts[0], parts[1], parts[2]


def _procedures(value: Any) -> list[dict[str, str]]:
    items = list(value or [])
    if not items:
        raise ValidationError(
            Message(
                "validation.procedures_empty",
                "Procedures: offer at least one, e.g. {example}",
                example=PROCEDURE_EXAMPLE,
            ),
            field="procedures",
        )
    order = {enum_cls: [m.value for m in enum_cls] for enum_cls in (Procedure, Setting, AgeGroup)}
    seen: set[tuple[str, str, str]] = set()
    for item in items:
        procedure, setting, age_group = _procedure_parts(item)
        offer = (procedure.strip().upper(), setting.strip().lower(), age_group.strip().lower())
        names = ("procedure", "setting", "age group")
        for part, enum_cls, name in zip(offer, (Procedure, Setting, AgeGroup), names, strict=True):
            if part not in order[enum_cls]:
                raise ValidationError(
                    Message(
                        "validation.procedure_part_unknown",
                        "Procedures: {name} '{value}' is not one of {options}, e.g. {example}",
                        name=Message(f"field.procedure_{name.replace(' ', '_')}", name),
                        value=part,
                        options=", ".join(order[enum_cls]),
                        example=PROCEDURE_EXAMPLE,
                    ),
                    field="procedures",
                )
        if offer in seen:
            raise ValidationError(
                Message(
                    "validation.procedure_twice",
                    "Procedures: '{value}' is listed twice; list each offer once",
                    value=" ".join(offer),
                ),
                field="procedures",
            )
        seen.add(offer)
    ordered = sorted(seen, key=lambda o: tuple(order[e].index(p) for p, e in zip(o, order, strict=True)))
    return [{"procedure": p, "setting": s, "age_group": a} for p, s, a in ordered]


def _age(value: Any, *, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        age = int(str(value).strip())
    except ValueError:
        raise ValidationError(
            Message(
                "validation.age_invalid",
                "Patient age '{value}' is not a whole number of years, e.g. 18",
                value=value,
            ),
            field=field,
        ) from None
    if not 0 <= age <= MAX_PATIENT_AGE:
        raise ValidationError(
            Message(
                "validation.age_range",
                "Patient age {age} must be between 0 and {max_age}, e.g. 18",
                age=age,
                max_age=MAX_PATIENT_AGE,
            ),
            field=field,
        )
    return age


def _flag(value: Any, *, field: str, optional: bool) -> bool | None:
    if value is None and optional:
        return None
    if isinstance(value, bool):
        return value
    raise ValidationError(
        Message(
            "validation.flag", "{field} '{value}' must be yes or no (true/false)", field=field_name(field), value=value
        ),
        field=field,
    )


def _optional_date(value: Any, *, field: str, today: date) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                Message("validation.date_invalid", f"{field} '{{value}}' is not a date, e.g. 2026-03-31", value=value),
                field=field,
            ) from None
    if value > today:
        raise ValidationError(
            Message(
                "validation.date_future",
                f"{field} {{value:%d.%m.%Y}} lies in the future; use today or earlier",
                value=value,
            ),
            field=field,
        )
    return value


def clean_therapist(session: Session, data: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Return validated column values for every field of ``FIELDS``, or one ValidationError listing all problems.

    Missing optional fields take their defaults; setting the accepting flag without a date dates it ``today``.
    """
    cleaners: dict[str, Callable[[Any], Any]] = {
        "title": lambda v: _text(v, field="title", max_length=50),
        "first_name": lambda v: _text(v, field="first_name", max_length=100, required=True, example="Anna"),
        "last_name": lambda v: _text(v, field="last_name", max_length=100, required=True, example="Schmidt"),
        "gender": lambda v: _choice(Gender, v, field="gender"),
        "street": lambda v: _text(v, field="street", max_length=200),
        "postcode": lambda v: clean_postcode(session, v).plz,
        "city": lambda v: _text(v, field="city", max_length=100),
        "phone": lambda v: normalise_phone(v, field="phone"),
        "email": lambda v: validate_email(v, field="email"),
        "website": _website,
        "procedures": _procedures,
        "languages": lambda v: parse_languages(v, field="languages"),
        "phone_hours": lambda v: normalise_phone_hours(v, field="phone_hours"),
        "pref_age_min": lambda v: _age(v, field="pref_age_min"),
        "pref_age_max": lambda v: _age(v, field="pref_age_max"),
        "pref_patient_gender": lambda v: _choice(GenderWish, v, field="pref_patient_gender"),
        "pref_diagnoses": lambda v: parse_icd10_list(v, field="pref_diagnoses"),
        "statutory_licence": lambda v: _flag(v, field="statutory_licence", optional=False),
        "accepting_patients": lambda v: _flag(v, field="accepting_patients", optional=True),
        "accepting_confirmed_on": lambda v: _optional_date(v, field="accepting_confirmed_on", today=today),
        "source": lambda v: _choice(TherapistSource, v, field="source"),
        "last_verified_on": lambda v: _optional_date(v, field="last_verified_on", today=today),
        "notes": _notes,
    }
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - set(cleaners))
    if unknown:
        errors["_form"] = Message(
            "validation.unknown_fields",
            "Unknown field(s) {fields}; known fields: {known}",
            fields=unknown,
            known=", ".join(FIELDS),
        )
    cleaned: dict[str, Any] = {}
    for field in FIELDS:
        try:
            cleaned[field] = cleaners[field](data.get(field, DEFAULTS.get(field)))
        except ValidationError as exc:
            errors[field] = exc.message
    low, high = cleaned.get("pref_age_min"), cleaned.get("pref_age_max")
    if low is not None and high is not None and low > high:
        errors["pref_age_max"] = Message(
            "validation.age_range_reversed",
            "Patient age range {low}-{high} ends before it starts; e.g. 18-65",
            low=low,
            high=high,
        )
    if errors:
        raise ValidationError.collect(errors)
    if cleaned["accepting_patients"] is None:
        cleaned["accepting_confirmed_on"] = None
    elif cleaned["accepting_confirmed_on"] is None:
        cleaned["accepting_confirmed_on"] = today
    return cleaned
