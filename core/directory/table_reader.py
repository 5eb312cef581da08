"""Read CSV and Excel exports of community exporter tools: one row per therapist, columns named freely.

A column mapping says which column holds which of our fields (``TARGETS``). It is remembered per layout,
the layout being the header row's signature, so the second upload of a layout needs no mapping step.
Example:

    headers = read_headers(open("export.csv", "rb"), file_name="export.csv")
    mapping = suggest_mapping(headers)          # {"PLZ": "postcode", "Nachname": "last_name", ...}
    for line, row in read_rows(open("export.csv", "rb"), file_name="export.csv", mapping=mapping): ...
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from typing import IO

from core.errors import ValidationError
from core.messages import Message

TARGETS = (
    "external_id", "salutation", "title", "first_name", "last_name", "gender", "street", "house_number",
    "postcode", "city", "latitude", "longitude", "phone", "mobile", "email", "website", "procedures",
    "phone_hours", "languages", "accessibility",
)  # fmt: skip
REQUIRED_TARGETS = ("first_name", "last_name", "postcode")
# header words exporter tools use -> our field (lower case, without spaces, dashes and underscores)
SYNONYMS = {
    "id": "external_id", "arztid": "external_id", "verzeichnisid": "external_id", "anrede": "salutation",
    "titel": "title", "title": "title", "vorname": "first_name", "firstname": "first_name",
    "nachname": "last_name", "name": "last_name", "lastname": "last_name", "surname": "last_name",
    "geschlecht": "gender", "gender": "gender", "straße": "street", "strasse": "street", "street": "street",
    "strassehnr": "street", "straßehausnummer": "street", "hausnummer": "house_number", "hnr": "house_number",
    "plz": "postcode", "postleitzahl": "postcode", "zip": "postcode", "ort": "city", "stadt": "city",
    "city": "city", "lat": "latitude", "breitengrad": "latitude", "lon": "longitude", "lng": "longitude",
    "längengrad": "longitude", "telefon": "phone", "tel": "phone", "phone": "phone", "handy": "mobile",
    "mobil": "mobile", "email": "email", "mail": "email", "web": "website", "webseite": "website",
    "website": "website", "homepage": "website", "verfahren": "procedures", "psychotherapie": "procedures",
    "procedures": "procedures", "telefonzeiten": "phone_hours", "telefonischeerreichbarkeit": "phone_hours",
    "phonehours": "phone_hours", "sprachen": "languages", "fremdsprachen": "languages", "languages": "languages",
    "barrierefreiheit": "accessibility",
}  # fmt: skip
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def is_table(file_name: str) -> bool:
    return file_name.lower().endswith((".csv", ".txt", *EXCEL_SUFFIXES))


def signature(headers: list[str]) -> str:
    """The layout's identity: a hash of its header row, case and spacing ignored."""
    text = "\x1f".join(" ".join(h.split()).lower() for h in headers)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """Map each header to a target by known words; an unknown header maps to "" (ignored)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = re.sub(r"[\s_\-./]+", "", header.lower())
        target = SYNONYMS.get(key, "")
        mapping[header] = "" if target in used else target
        used.add(target)
    return mapping


def check_mapping(mapping: Mapping[str, str], *, file_name: str) -> None:
    """Raise ValidationError unless every target is known, used once, and the required ones are mapped."""
    targets = [t for t in mapping.values() if t]
    unknown = sorted(set(targets) - set(TARGETS))
    twice = sorted({t for t in targets if targets.count(t) > 1})
    missing = [t for t in REQUIRED_TARGETS if t not in targets]
    if unknown:
        raise ValidationError(Message("directory.error.mapping_unknown", "{file}: column mapping names unknown "
                                      "field(s) {fields}; use {allowed}", file=file_name, fields=", ".join(unknown),
                                      allowed=", ".join(TARGETS)), field="mapping")  # fmt: skip
    if twice:
        raise ValidationError(Message("directory.error.mapping_twice", "{file}: field(s) {fields} mapped from more "
                                      "than one column; map each field once", file=file_name,
                                      fields=", ".join(twice)), field="mapping")  # fmt: skip
    if missing:
        raise ValidationError(Message("directory.error.mapping_missing", "{file}: no column mapped to {fields}; map "
                                      "the columns holding first name, surname and PLZ", file=file_name,
                                      fields=", ".join(missing)), field="mapping")  # fmt: skip


def _not_utf8(file_name: str, line: int, exc: UnicodeDecodeError) -> ValidationError:
    byte = exc.object[exc.start : exc.start + 1].hex().upper()
    guess = exc.object[exc.start : exc.start + 1].decode("latin-1")
    return ValidationError(
        Message(
            "directory.error.table_not_utf8",
            "{file}, line {line}: the file is not UTF-8 (byte 0x{byte}, "
            "'{guess}' in Latin-1/Windows-1252); save it as 'CSV UTF-8' and import it again",
            file=file_name,
            line=line,
            byte=byte,
            guess=guess,
        ),
        field="file",
    )


def _empty(file_name: str) -> ValidationError:
    return ValidationError(Message("directory.error.table_empty", "{file}: the file is empty (no header row); export "
                                   "it again", file=file_name), field="file")  # fmt: skip


def _csv_lines(stream: IO[bytes], file_name: str) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    line = 1
    try:
        first = text.readline()
        if not first.strip():
            raise _empty(file_name)
        dialect = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
        rows = csv.reader(_chain(first, text), delimiter=dialect)
        for row in rows:
            yield rows.line_num, row
            line = rows.line_num
    except UnicodeDecodeError as exc:
        raise _not_utf8(file_name, line + 1, exc) from None
    except csv.Error as exc:
        raise ValidationError(Message("directory.error.csv_broken", "{file}, line {line}: {detail}; check quotes in "
                                      "that row", file=file_name, line=line + 1, detail=str(exc)),
                              field="file") from None  # fmt: skip


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    yield first
    yield from rest


def _excel_lines(stream: IO[bytes], file_name: str) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only Excel uploads need it

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError(
            Message(
                "directory.error.excel_unreadable",
                "{file}: not a readable Excel file ({detail}); save it again as .xlsx",
                file=file_name,
                detail=str(exc),
            ),
            field="file",
        ) from None
    for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        yield number, ["" if cell is None else str(cell) for cell in row]


def _lines(stream: IO[bytes], file_name: str) -> Iterator[tuple[int, list[str]]]:
    if file_name.lower().endswith(EXCEL_SUFFIXES):
        return _excel_lines(stream, file_name)
    return _csv_lines(stream, file_name)


def read_headers(stream: IO[bytes], *, file_name: str) -> list[str]:
    """Return the header row; ValidationError for an empty or non-UTF-8 file."""
    for _, row in _lines(stream, file_name):
        headers = [" ".join(cell.split()) for cell in row]
        if any(headers):
            return headers
    raise _empty(file_name)


def read_rows(stream: IO[bytes], *, file_name: str, mapping: Mapping[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, row renamed to our fields) for every non-empty data row, streaming."""
    check_mapping(mapping, file_name=file_name)
    lines = _lines(stream, file_name)
    headers: list[str] | None = None
    for line, row in lines:
        if headers is None:
            headers = [" ".join(cell.split()) for cell in row]
            continue
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(headers, row, strict=False))
        yield line, {target: values.get(header, "") for header, target in mapping.items() if target}
    if headers is None:
        raise _empty(file_name)
