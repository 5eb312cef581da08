"""What one directory entry becomes: the therapist fields we import, and the problems found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.messages import Message

# The therapist columns an import writes, in the order the preview lists them. Everything else on the
# therapist (preferences, status, notes, accepting flag) belongs to staff and is never touched by an import.
IMPORTED_FIELDS = (
    "title", "first_name", "last_name", "gender", "street", "postcode", "city", "latitude", "longitude",
    "phone", "email", "website", "procedures", "languages", "phone_hours",
)  # fmt: skip
LOCATION_SOURCE = "directory"  # coordinates from the 116117 entry itself (address level)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (file, line, entry, field) and what to do about it."""

    file: str
    line: int | None
    entry: str | None  # the directory id, or "#<position>" when the entry has none
    field: str
    message: Message  # a coded message: the report stores code and params, the page says it in German
    severity: str = "rejected"  # "rejected" (the entry is not imported) or "warning" (imported, reported)

    def text(self) -> str:
        parts = (self.file, f"line {self.line}" if self.line else "", f"entry {self.entry}" if self.entry else "",
                 f"field {self.field}")  # fmt: skip
        where = ", ".join(part for part in parts if part)
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "entry": self.entry, "field": self.field,
                "message": str(self.message), "severity": self.severity, **stored(self.message)}  # fmt: skip


def stored(message: Any) -> dict[str, Any]:
    """Return a message's code and parameters as JSON (a parameter that is a message nests as a dict).

    Example: stored(Message("directory.problem.postcode_invalid", "PLZ '{value}' ...", value="1234"))
    -> {"code": "directory.problem.postcode_invalid", "params": {"value": "1234"}}
    """
    if not isinstance(message, Message):
        return {}

    def value(item: Any) -> Any:
        if isinstance(item, Message):
            return {"code": item.code, "text": str(item), "params": stored(item).get("params", {})}
        if isinstance(item, list | tuple):
            return [value(part) for part in item]
        return item

    return {"code": message.code, "params": {name: value(item) for name, item in message.params.items()}}


@dataclass
class Entry:
    """One therapist as the directory lists them, normalised into our model's terms."""

    file: str
    line: int | None
    external_id: str | None
    values: dict[str, Any]  # IMPORTED_FIELDS -> normalised value
    consultation_hours: dict[str, Any] = field(default_factory=dict)  # kind -> phone-hours normal form
    details: dict[str, Any] = field(default_factory=dict)  # accessibility, kv, specialties: kept, not matched on
    warnings: list[Problem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.external_id or f"line {self.line}"
