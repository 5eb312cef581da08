"""Clean and validate patient input from forms, imports and the CLI; every bad field is reported at once.

Example:
    clean_patient(session, {"first_name": "Lea", "postcode": "1234", ...}, today=date(2026, 11, 26))
    -> ValidationError(errors={"postcode": "PLZ '1234' must have 5 digits, e.g. 10115"})
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.contact import normalise_phone, validate_email
from core.errors import ValidationError
from core.geo.addresses import clean_postcode
from core.icd10 import parse_icd10_list
from core.messages import Message, field_name
from core.patients import rules
from core.patients.models import Gender, GenderWish, InsuranceType, SettingWish, TransportMode
from core.patients.vocabulary import LANGUAGES, SYMPTOMS

PROCEDURES = ("VT", "TP", "AP", "ST")
MAX_DISTANCE_KM = 200.0  # beyond this nobody travels weekly to therapy

# Fields a patient record has, in form order; required ones must be present on create.
REQUIRED = ("first_name", "last_name", "gender", "birth_date", "postcode")
# Invisible characters that come along when text is pasted from web pages, PDFs or chat apps (soft hyphen,
# zero-width space and joiners, direction marks, word joiner, BOM): a name holding one is never found again.
# The same set as search_fold() in migration 0007_forms.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
SPACES = re.compile(r"\s+")


def normalise_text(value: str, *, single_line: bool = True) -> str:
    """Return ``value`` composed (NFC), without invisible characters, trimmed; one line: single spaces.

    Example: normalise_text("Muster\u200bmann\u00a0 Lea") -> "Mustermann Lea"
    """
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", value))
    return SPACES.sub(" ", text).strip() if single_line else text.strip()


def _text(value: Any, *, field: str, max_length: int, required: bool = False, single_line: bool = True) -> str | None:
    text = normalise_text(str(value) if value is not None else "", single_line=single_line)
    if not text:
        if required:
            raise ValidationError(required_message(field), field=field)
        return None
    if len(text) > max_length:
        raise ValidationError(
            Message(
                "validation.too_long",
                "{field} has {length} characters; at most {max_length} are allowed",
                field=field_name(field),
                length=len(text),
                max_length=max_length,
            ),
            field=field,
        )
    return text


def required_message(field: str) -> Message:
    """Return the message for a missing required field."""
    return Message("validation.required", "{field} is required", field=field_name(field))


def _choice(enum_cls, value: Any, *, field: str):
    try:
        return enum_cls(value.value if hasattr(value, "value") else value)
    except ValueError:
        options = ", ".join(m.value for m in enum_cls)
        raise ValidationError(
            Message(
                "validation.not_one_of", "{field} '{value}' is not one of: {options}",
                field=field_name(field), value=value, options=options,
            ),
            field=field,
        ) from None  # fmt: skip


def _birth_date(value: Any, *, today: date) -> date:
    if value in (None, ""):
        raise ValidationError(
            Message("validation.birth_date_required", "Birth date is required, e.g. 1990-04-17"), field="birth_date"
        )
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                Message(
                    "validation.birth_date_invalid",
                    "Birth date '{value}' is not a date, e.g. 1990-04-17",
                    value=value,
                ),
                field="birth_date",
            ) from None
    if value > today:
        raise ValidationError(
            Message("validation.birth_date_future", "Birth date {value:%d.%m.%Y} lies in the future", value=value),
            field="birth_date",
        )
    if rules.age_on(value, today) > rules.MAX_AGE_YEARS:
        raise ValidationError(
            Message(
                "validation.birth_date_too_old",
                "Birth date {value:%d.%m.%Y} means an age over {max_age}; check the year",
                value=value,
                max_age=rules.MAX_AGE_YEARS,
            ),
            field="birth_date",
        )
    return value


def _optional_date(value: Any, *, field: str, today: date) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                Message("validation.date_invalid", "'{value}' is not a date, e.g. 2024-03-31", value=value), field=field
            ) from None
    if value > today:
        raise ValidationError(
            Message("validation.date_future", "{value:%d.%m.%Y} lies in the future", value=value),
            field=field,
        )
    return value


def _list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return list(value)


def _symptoms(value: Any) -> list[str]:
    symptoms = _list(value)
    unknown = [s for s in symptoms if s not in SYMPTOMS]
    if unknown:
        raise ValidationError(
            Message(
                "validation.symptoms_unknown",
                "Unknown symptom(s) {unknown}; choose from the list, e.g. '{example}'",
                unknown=unknown,
                example=SYMPTOMS[0],
            ),
            field="symptoms",
        )
    return sorted(set(symptoms), key=SYMPTOMS.index)


def _procedures(value: Any) -> list[str]:
    procedures = [p.upper() for p in _list(value)]
    unknown = [p for p in procedures if p not in PROCEDURES]
    if unknown:
        raise ValidationError(
            Message(
                "validation.procedures_unknown",
                "Unknown procedure(s) {unknown}; use VT, TP, AP or ST",
                unknown=unknown,
            ),
            field="procedure_wishes",
        )
    return sorted(set(procedures), key=PROCEDURES.index)


def _languages(value: Any) -> list[str]:
    languages = [code.strip().lower() for code in _list(value)] or ["de"]
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise ValidationError(
            Message(
                "validation.languages_unknown",
                "Unknown language code(s) {unknown}; use ISO codes such as de, en, tr",
                unknown=unknown,
            ),
            field="languages",
        )
    return sorted(set(languages), key=list(LANGUAGES).index)


def _distance(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        km = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            Message(
                "validation.distance_invalid",
                "Distance '{value}' is not a number of kilometres, e.g. 15",
                value=value,
            ),
            field="max_distance_km",
        ) from None
    if not 0 < km <= MAX_DISTANCE_KM:
        raise ValidationError(
            Message(
                "validation.distance_range",
                "Distance {km:g} km must be between 1 and {max_km:g} km, e.g. 15",
                km=km,
                max_km=MAX_DISTANCE_KM,
            ),
            field="max_distance_km",
        )
    return km


def _minutes(value: Any) -> int | None:
    if value in (None, "", 0):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            Message(
                "validation.minutes_invalid",
                "Travel time '{value}' is not a number of minutes, e.g. 45",
                value=value,
            ),
            field="max_travel_minutes",
        ) from None
    if not 5 <= minutes <= 240:
        raise ValidationError(
            Message(
                "validation.minutes_range",
                "Travel time {minutes} min must be between 5 and 240, e.g. 45",
                minutes=minutes,
            ),
            field="max_travel_minutes",
        )
    return minutes


def clean_patient(session: Session, data: Mapping[str, Any], *, today: date, partial: bool = False) -> dict[str, Any]:
    """Return validated column values for a patient, or raise one ValidationError listing every bad field.

    With ``partial`` (updates) only the keys present in ``data`` are checked and returned.
    """
    cleaners: dict[str, Callable[[Any], Any]] = {
        "first_name": lambda v: _text(v, field="first_name", max_length=100, required=True),
        "last_name": lambda v: _text(v, field="last_name", max_length=100, required=True),
        "gender": lambda v: _choice(Gender, v, field="gender"),
        "birth_date": lambda v: _birth_date(v, today=today),
        "email": lambda v: validate_email(v, field="email"),
        "phone": lambda v: normalise_phone(v, field="phone"),
        "street": lambda v: _text(v, field="street", max_length=200),
        "postcode": lambda v: clean_postcode(session, v).plz,
        "city": lambda v: _text(v, field="city", max_length=100),
        "insurance_type": lambda v: None if v in (None, "") else _choice(InsuranceType, v, field="insurance_type"),
        "insurance_name": lambda v: _text(v, field="insurance_name", max_length=100),
        "symptoms": _symptoms,
        "diagnoses": parse_icd10_list,
        "previous_therapy_end": lambda v: _optional_date(v, field="previous_therapy_end", today=today),
        "two_year_exception": lambda v: _text(v, field="two_year_exception", max_length=2000, single_line=False),
        "availability": lambda v: rules.normalise_availability(list(v or [])),
        "max_distance_km": _distance,
        "max_travel_minutes": _minutes,
        "transport_mode": lambda v: _choice(TransportMode, v, field="transport_mode"),
        "therapist_gender_wish": lambda v: _choice(GenderWish, v, field="therapist_gender_wish"),
        "procedure_wishes": _procedures,
        "setting_wish": lambda v: _choice(SettingWish, v, field="setting_wish"),
        "languages": _languages,
        "contact_language": lambda v: _choice_language(v),
        "notes": lambda v: _text(v, field="notes", max_length=5000, single_line=False),
    }
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, clean in cleaners.items():
        if field not in data:
            if not partial and field in REQUIRED:
                errors[field] = required_message(field)
            continue
        try:
            cleaned[field] = clean(data[field])
        except ValidationError as exc:
            errors[field] = exc.message
    unknown = set(data) - set(cleaners)
    if unknown:
        errors["_form"] = Message("validation.unknown_fields", "Unknown field(s) {fields}", fields=sorted(unknown))
    if errors:
        raise ValidationError.collect(errors)
    if "availability" in cleaned:
        cleaned["weekly_hours"] = rules.weekly_hours(cleaned["availability"])
    return cleaned


def _choice_language(value: Any) -> str:
    code = str(value or "de").strip().lower()
    if code not in {"de", "en"}:
        raise ValidationError(
            Message(
                "validation.contact_language",
                "Contact language '{value}' is not available; use de or en",
                value=value,
            ),
            field="contact_language",
        )
    return code
