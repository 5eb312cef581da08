"""Turn one raw directory entry (JSON or mapped CSV row) into an ``Entry``, or the problems that reject it.

Pure: no session, no clock. Example:

    entry, problems = normalise_json({"id": "A1", "vorname": "Anna", "name": "Beispiel", "plz": "1067", ...},
                                     file="suche.json", line=3, index=0)
    entry.values["postcode"]  ->  "01067"   (the leading zero a number type dropped)
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers

from core.contact import normalise_phone, validate_email
from core.directory.entries import IMPORTED_FIELDS, Entry, Problem
from core.errors import ValidationError
from core.messages import Message, term
from core.therapists.languages import ISO_639_1
from core.therapists.phone_hours import DAY_WORDS, normalise_phone_hours

# tsz[].typTsz[].typ (new format) and tsz[].tszDesTyps[].typ (old format, German text) -> our kind of hours
HOUR_CODES = {
    "01": "consultation",
    "02": "consultation_walk_in",
    "05": "psychotherapy_consultation",
    "06": "psychotherapy_consultation_walk_in",
    "07": "phone",
}
HOUR_TEXTS = {
    "sprechstunde": "consultation",
    "offene sprechstunde": "consultation_walk_in",
    "sprechstunde ohne termin": "consultation_walk_in",
    "psychotherapeutische sprechstunde": "psychotherapy_consultation",
    "psychotherapeutische sprechstunde ohne termin": "psychotherapy_consultation_walk_in",
    "offene psychotherapeutische sprechstunde": "psychotherapy_consultation_walk_in",
    "telefonische erreichbarkeit": "phone",
}
# procedure words in psy[].heading / psy[].values and the search's filter codes (ptv, pta, pts)
PROCEDURE_WORDS = (("verhaltens", "VT"), ("tiefenpsych", "TP"), ("analyt", "AP"), ("systemisch", "ST"))
PROCEDURE_CODES = {"V": "VT", "T": "TP", "A": "AP", "S": "ST", **{p: p for p in ("VT", "TP", "AP", "ST")}}
AGE_CODES = {"E": "adults", "K": "children_youth"}
SETTING_CODES = {"E": "individual", "G": "group"}
# fs[]: the directory names languages in German
LANGUAGE_NAMES = {
    "deutsch": "de", "englisch": "en", "französisch": "fr", "spanisch": "es", "italienisch": "it",
    "türkisch": "tr", "russisch": "ru", "polnisch": "pl", "arabisch": "ar", "persisch": "fa", "farsi": "fa",
    "griechisch": "el", "portugiesisch": "pt", "niederländisch": "nl", "kroatisch": "hr", "serbisch": "sr",
    "bosnisch": "bs", "ukrainisch": "uk", "rumänisch": "ro", "ungarisch": "hu", "tschechisch": "cs",
    "kurdisch": "ku", "vietnamesisch": "vi", "chinesisch": "zh", "hebräisch": "he",
}  # fmt: skip
GENDERS = {"w": "female", "weiblich": "female", "frau": "female", "m": "male", "männlich": "male",
           "herr": "male", "d": "diverse", "divers": "diverse"}  # fmt: skip
MARKUP = re.compile(r"<[^>]*>|&(#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
PLZ = re.compile(r"^\d{4,5}$")  # four digits: a number column dropped the leading zero (01067 -> 1067)
TIME_RANGE = re.compile(r"^\s*(\d{1,2}[:.]\d{2})\s*[-–]\s*(\d{1,2}[:.]\d{2})\s*$")


# A German number written nationally: one leading 0, then digits with spaces, dashes or slashes between them.
_NATIONAL_NUMBER = re.compile(r"^\s*0[1-9][0-9]*(?:[ /-]+[0-9]+)*\s*$")
_NOT_DIGIT = re.compile(r"[^0-9]")


@functools.lru_cache(maxsize=100_000)
def _phone(raw: str | None) -> str | None:
    """core.contact's normaliser, remembered (colleagues of a practice share numbers), with a fast path.

    ``phonenumbers.parse`` costs about 0.3 ms, most of it generic work (country codes, extensions, carrier
    codes) that a national German number like "030 1234567" does not need: for that shape the national number
    is the digits after the 0, and ``is_valid_number`` on it decides as ``normalise_phone`` does. Anything else,
    and every invalid number (for its exact error message), goes through ``normalise_phone``.
    tests/directory/test_directory_normalise_fast.py compares both on random inputs.
    """
    if raw is not None and _NATIONAL_NUMBER.match(raw):
        national = _NOT_DIGIT.sub("", raw)[1:]
        if len(national) <= 15 and _valid_german(national):
            return "+49" + national
    return normalise_phone(raw)


def _descs() -> tuple[tuple[frozenset[int], re.Pattern[str]] | None, ...]:
    """Germany's number descriptions as phonenumbers' validity check reads them: the general one first."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("DE")
    # fixed line and mobile first: almost every practice number is one of them, and validity only asks
    # whether any type matches (the order phonenumbers uses to *name* the type does not matter here)
    descs = [metadata.general_desc] + [
        getattr(metadata, kind) for kind in ("fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost",
                                             "voip", "personal_number", "pager", "uan", "voicemail")
    ]  # fmt: skip
    return tuple(
        (frozenset(d.possible_length), re.compile(d.national_number_pattern)) if d and d.national_number_pattern
        else None for d in descs
    )  # fmt: skip


_GERMAN = _descs()


def _valid_german(national: str) -> bool:
    """``phonenumbers.is_valid_number`` for +49 ``national`` (no leading zero): the general pattern and any type.

    phonenumbers compiles (from its cache) and tries each type's pattern in turn per call; here they are
    compiled once. The type it would name does not matter for validity, only that one matches.
    """

    def matches(desc: tuple[frozenset[int], re.Pattern[str]] | None) -> bool:
        if desc is None:
            return False
        lengths, pattern = desc
        return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None

    general, *types = _GERMAN
    return matches(general) and any(matches(desc) for desc in types)


_HOURS_REMEMBERED = 20_000
_hours_seen: dict[str, dict[str, list[list[str]]]] = {}


def _normal_hours(by_day: Mapping[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """``normalise_phone_hours`` remembered per distinct week (most practices list the same few); a fresh copy.

    The key is the week's repr (insertion order and all), so only an identical input shares a result; an
    invalid week raises each time, as the definition does.
    """
    key = repr(by_day)
    normal = _hours_seen.get(key)
    if normal is None:
        normal = normalise_phone_hours(by_day, field="tsz")
        if len(_hours_seen) >= _HOURS_REMEMBERED:
            _hours_seen.clear()
        _hours_seen[key] = normal
    return {day: [list(pair) for pair in pairs] for day, pairs in normal.items()}


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


FIRST_NAME = term("directory.label.first_name", "First name")
SURNAME = term("directory.label.last_name", "Surname")
TITLE = term("directory.label.title", "Title")


def _reason(exc: ValidationError) -> Message:
    """The message of a normaliser's error (coded where the normaliser codes it)."""
    message = exc.message if isinstance(exc.message, Message) else None
    return message or Message("directory.problem.detail", "{detail}", detail=str(exc))


def _left_empty(exc: ValidationError) -> Message:
    return Message("directory.problem.left_empty", "{reason}; left empty", reason=_reason(exc))


def _reject(problems: list[Problem], where: dict[str, Any], field: str, message: Message) -> None:
    problems.append(Problem(field=field, message=message, **where))


def _name(value: Any, field: str, label: Message, where: dict[str, Any], problems: list[Problem]) -> str | None:
    text = _text(value)
    if text is None:
        _reject(
            problems,
            where,
            field,
            Message(
                "directory.problem.name_missing",
                "{label} is missing; an entry without a name cannot be matched",
                label=label,
            ),
        )
    elif MARKUP.search(text):
        _reject(
            problems,
            where,
            field,
            Message(
                "directory.problem.markup",
                "{label} '{value}' contains HTML or markup; correct the export or the entry",
                label=label,
                value=text,
            ),
        )
    elif len(text) > 100:
        _reject(
            problems,
            where,
            field,
            Message(
                "directory.problem.name_too_long",
                "{label} '{value}…' is longer than 100 characters",
                label=label,
                value=text[:40],
            ),
        )
    else:
        return text
    return None


def _postcode(value: Any, field: str, where: dict[str, Any], problems: list[Problem]) -> str | None:
    text = _text(value)
    if text and text.endswith(".0"):
        text = text[:-2]  # a spreadsheet's number column
    if text is None or not PLZ.match(text):
        _reject(
            problems,
            where,
            field,
            Message(
                "directory.problem.postcode_invalid",
                "PLZ '{value}' is not a German postcode of 5 digits, e.g. 01067",
                value=text or "",
            ),
        )
        return None
    return text.zfill(5)


def _float(value: Any) -> float | None:
    try:
        number = float(str(value).replace(",", ".")) if value not in (None, "") else None
    except ValueError:
        return None
    return number


def _soft(values: dict[str, Any], key: str, call: Any, warnings: list[Problem], where: dict[str, Any]) -> None:
    """Run a normaliser; a bad contact detail becomes a warning and an empty value, not a rejected entry."""
    try:
        values[key] = call()
    except ValidationError as exc:
        values[key] = None
        warnings.append(Problem(field=key, message=_left_empty(exc), severity="warning", **where))


def procedures_from_text(texts: Iterable[str]) -> list[dict[str, str]]:
    """Read offers like "Verhaltenstherapie Einzeltherapie Erwachsene" or codes "V E E" (ptv, pta, pts)."""
    return [dict(offer) for offer in _procedures(tuple(texts))]


@functools.lru_cache(maxsize=20_000)  # the directory words a few dozen offers the same way: read each once
def _procedures(texts: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    offers: set[tuple[str, str, str]] = set()
    for raw in texts:
        text = (raw or "").strip()
        codes = re.split(r"[\s/,-]+", text)
        if len(codes) == 3 and codes[0].upper() in PROCEDURE_CODES and codes[1].upper() in AGE_CODES \
                and codes[2].upper() in SETTING_CODES:  # fmt: skip
            offers.add(
                (PROCEDURE_CODES[codes[0].upper()], SETTING_CODES[codes[2].upper()], AGE_CODES[codes[1].upper()])
            )
            continue
        lower = text.lower()
        procedures = [code for word, code in PROCEDURE_WORDS if word in lower]
        procedures += [c for c in re.findall(r"\b(VT|TP|AP|ST)\b", text)]
        settings = [s for word, s in (("einzel", "individual"), ("grupp", "group")) if word in lower] or ["individual"]
        ages = [a for word, a in (("erwachsen", "adults"), ("kinder", "children_youth"), ("jugend", "children_youth"))
                if word in lower] or ["adults"]  # fmt: skip
        offers.update((p, s, a) for p in procedures for s in settings for a in ages)
    order = ({"VT": 0, "TP": 1, "AP": 2, "ST": 3}, {"individual": 0, "group": 1}, {"adults": 0, "children_youth": 1})
    return tuple(
        {"procedure": p, "setting": s, "age_group": a}
        for p, s, a in sorted(offers, key=lambda o: tuple(order[i][o[i]] for i in range(3)))
    )


def languages_from_names(names: Iterable[Any], where: dict[str, Any], warnings: list[Problem]) -> list[str]:
    codes = {"de"}  # the directory lists extra languages; sessions in German are the default
    for name in names:
        text = (_text(name.get("value") if isinstance(name, Mapping) else name) or "").lower()
        code = LANGUAGE_NAMES.get(text) or (text if text in ISO_639_1 else None)
        if code and code in ISO_639_1:
            codes.add(code)
        elif text:
            warnings.append(Problem(field="fs", message=Message("directory.problem.language_unknown", "language "
                                                                "'{value}' is not known; not imported", value=text),
                                    severity="warning", **where))  # fmt: skip
    return ["de", *sorted(codes - {"de"})]


def _hour_kind(typ: Any) -> str:
    text = str(typ or "").strip()
    if text.isdigit():
        return HOUR_CODES.get(text.zfill(2), f"unknown:{text.zfill(2)}")
    return HOUR_TEXTS.get(text.lower(), f"unknown:{text}")


_TSZ_REMEMBERED = 20_000
_tsz_seen: dict[str, dict[str, dict[str, Any]]] = {}


def hours_from_tsz(days: Any, where: dict[str, Any], warnings: list[Problem]) -> dict[str, dict[str, Any]]:
    """Read ``tsz[]`` in the new (typTsz, z) or old (tszDesTyps, zeit) format: kind -> phone-hours normal form.

    Remembered per distinct ``tsz`` (its repr: only an identical input shares a result) when it reads without
    warnings (those name the entry); each caller gets a fresh copy. Many practices list the same hours.
    """
    key = repr(days)
    hours = _tsz_seen.get(key)
    if hours is None:
        found: list[Problem] = []
        hours = _hours_from_tsz(days, where, found)
        if found:
            warnings.extend(found)
            return hours
        if len(_tsz_seen) >= _TSZ_REMEMBERED:
            _tsz_seen.clear()
        _tsz_seen[key] = hours  # kept as read; the caller changes its copy (takes the phone hours out)
    return {kind: {day: [list(pair) for pair in pairs] for day, pairs in by_day.items()}
            for kind, by_day in hours.items()}  # fmt: skip


def _hours_from_tsz(days: Any, where: dict[str, Any], warnings: list[Problem]) -> dict[str, dict[str, Any]]:
    ranges: dict[str, dict[str, list[list[str]]]] = {}
    unknown: set[str] = set()
    for day in days or []:
        weekday = DAY_WORDS.get(str(day.get("t", "")).strip().rstrip(".").lower())
        if weekday is None:
            warnings.append(Problem(field="tsz.t", message=Message("directory.problem.weekday_unknown", "weekday "
                                                                   "'{value}' is not known; skipped",
                                                                   value=str(day.get("t"))),
                                    severity="warning", **where))  # fmt: skip
            continue
        for kind_block in day.get("typTsz") or day.get("tszDesTyps") or []:
            kind = _hour_kind(kind_block.get("typ"))
            if kind.startswith("unknown:"):
                unknown.add(kind.partition(":")[2])
            for slot in kind_block.get("sprechzeiten") or []:
                match = TIME_RANGE.match(str(slot.get("z", slot.get("zeit", ""))))
                if match is None:
                    warnings.append(Problem(field="tsz.sprechzeiten", message=Message(
                        "directory.problem.time_invalid", "time '{value}' is not 'HH:MM - HH:MM'; skipped",
                        value=str(slot)), severity="warning", **where))  # fmt: skip
                    continue
                start, end = (part.replace(".", ":").zfill(5) for part in match.groups())
                ranges.setdefault(kind, {}).setdefault(str(weekday), []).append([start, end])
    for code in sorted(unknown):
        warnings.append(Problem(field="tsz.typ", message=Message(
            "directory.problem.hours_type_unknown", "hours type '{code}' is not known (01, 02, 05, 06, 07); kept as "
            "unknown, not used as phone hours", code=code), severity="warning", **where))  # fmt: skip
    hours: dict[str, dict[str, Any]] = {}
    for kind, by_day in ranges.items():
        try:
            hours[kind] = _normal_hours(by_day)
        except ValidationError as exc:
            warnings.append(
                Problem(
                    field="tsz",
                    message=Message("directory.problem.hours_skipped", "{reason}; skipped", reason=_reason(exc)),
                    severity="warning",
                    **where,
                )
            )
    return hours


def _finish(
    file: str, line: int | None, external_id: str | None, raw: Mapping[str, Any], where: dict[str, Any],
    problems: list[Problem], warnings: list[Problem], hours: dict[str, Any], procedures: list[dict[str, str]],
    languages: list[str], details: dict[str, Any],
) -> tuple[Entry | None, list[Problem]]:  # fmt: skip
    values: dict[str, Any] = {
        "title": _text(raw.get("title")),
        "first_name": _name(raw.get("first_name"), "vorname", FIRST_NAME, where, problems),
        "last_name": _name(raw.get("last_name"), "name", SURNAME, where, problems),
        "postcode": _postcode(raw.get("postcode"), "plz", where, problems),
        "street": " ".join(p for p in (_text(raw.get("street")), _text(raw.get("house_number"))) if p) or None,
        "city": _text(raw.get("city")),
        "latitude": _float(raw.get("latitude")),
        "longitude": _float(raw.get("longitude")),
        "website": _text(raw.get("website")),
        "procedures": procedures,
        "languages": languages,
        "phone_hours": hours.pop("phone", {}),
    }
    if values["title"] and MARKUP.search(values["title"]):
        _reject(
            problems,
            where,
            "titel",
            Message(
                "directory.problem.markup",
                "{label} '{value}' contains HTML or markup; correct the export or the entry",
                label=TITLE,
                value=values["title"],
            ),
        )
    gender_words = [_text(raw.get("gender")), _text(raw.get("salutation"))]
    values["gender"] = next((GENDERS[w.lower()] for w in gender_words if w and w.lower() in GENDERS), "unknown")
    phone = _text(raw.get("phone")) or _text(raw.get("mobile"))
    _soft(values, "phone", lambda: _phone(phone), warnings, where)
    _soft(values, "email", lambda: validate_email(_text(raw.get("email"))), warnings, where)
    if problems:
        return None, problems + warnings
    ordered = {name: values[name] for name in IMPORTED_FIELDS}
    entry = Entry(file=file, line=line, external_id=external_id, values=ordered, consultation_hours=hours,
                  details=details, warnings=warnings)  # fmt: skip
    return entry, warnings


def normalise_json(data: Any, *, file: str, line: int | None, index: int) -> tuple[Entry | None, list[Problem]]:
    """Return the entry (None if rejected) and every problem: rejections and warnings, each with its place."""
    external_id = _text(data.get("id")) if isinstance(data, Mapping) else None
    where = {"file": file, "line": line, "entry": external_id or f"#{index + 1}"}
    if not isinstance(data, Mapping):
        return None, [Problem(field="arztPraxisDatas", message="an entry is not a JSON object", **where)]
    problems: list[Problem] = []
    warnings: list[Problem] = []
    hours = hours_from_tsz(data.get("tsz"), where, warnings)
    psy_texts = [f"{block.get('heading', '')} {value}" for block in data.get("psy") or [] for value in
                 (block.get("values") or [""])]  # fmt: skip
    details = {
        "accessibility": [_text(b.get("value") if isinstance(b, Mapping) else b) for b in data.get("bf") or []],
        "specialties": [_text(a.get("value") if isinstance(a, Mapping) else a) for a in data.get("ag") or []],
        "fields": [_text(f.get("value") if isinstance(f, Mapping) else f) for f in data.get("fg") or []],
        "kv": _text(data.get("kv")), "kvg": data.get("kvg") or [], "doctor": data.get("arzt"),
        "no_consultation_hours": bool(data.get("keineSprechzeiten")), "fax": _text(data.get("fax")),
        "distance_m": data.get("distance"),
    }  # fmt: skip
    raw = {
        "title": data.get("titel"), "first_name": data.get("vorname"), "last_name": data.get("name"),
        "gender": data.get("geschlecht"), "salutation": data.get("anrede"), "street": data.get("strasse"),
        "house_number": data.get("hausnummer"), "postcode": data.get("plz"), "city": data.get("ort"),
        "latitude": data.get("lat"), "longitude": data.get("lon"), "phone": data.get("tel"),
        "mobile": data.get("handy"), "email": data.get("email"), "website": data.get("web"),
    }  # fmt: skip
    languages = languages_from_names(data.get("fs") or [], where, warnings)
    return _finish(file, line, external_id, raw, where, problems, warnings, hours, procedures_from_text(psy_texts),
                   languages, details)  # fmt: skip


def normalise_row(row: Mapping[str, Any], *, file: str, line: int) -> tuple[Entry | None, list[Problem]]:
    """Normalise one CSV row already renamed to our keys (see csv_reader.TARGETS)."""
    external_id = _text(row.get("external_id"))
    where = {"file": file, "line": line, "entry": external_id}
    warnings: list[Problem] = []
    hours: dict[str, Any] = {}
    if _text(row.get("phone_hours")):
        try:
            hours["phone"] = normalise_phone_hours(str(row["phone_hours"]), field="phone_hours")
        except ValidationError as exc:
            warnings.append(Problem(field="phone_hours", message=_left_empty(exc), severity="warning", **where))
    offers = re.split(r"[;|\n]+", str(row.get("procedures") or ""))
    languages = languages_from_names(re.split(r"[,;/]+", str(row.get("languages") or "")), where, warnings)
    return _finish(
        file,
        line,
        external_id,
        row,
        where,
        [],
        warnings,
        hours,
        procedures_from_text(offers),
        languages,
        {"accessibility": [_text(row.get("accessibility"))] if _text(row.get("accessibility")) else []},
    )


def unescape_names(text: str) -> str:
    """Exposed for the page: how a name with entities would read (it is still rejected)."""
    return html.unescape(text)
