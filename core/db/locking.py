"""Optimistic locking for records staff edit: refuse a save when someone else saved meanwhile.

The form remembers the record's ``version`` and the values it showed (``original``). On save:

    ensure_unchanged(patient, version=form_version, original=form_original, labels={"email": "E-Mail"})

raises ConcurrentEdit naming the fields that changed since the form was loaded. SQLAlchemy's
``version_id_col`` on the model also catches a race between this check and the UPDATE (StaleDataError).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ConcurrentEdit


def changed_fields(record: Any, original: Mapping[str, Any]) -> list[str]:
    """Return the names of fields whose current value differs from ``original``."""
    return [name for name, value in original.items() if getattr(record, name) != value]


def ensure_unchanged(
    record: Any, *, version: int, original: Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> None:
    """Raise ConcurrentEdit if ``record`` was saved by someone else since ``version`` was read."""
    if record.version == version:
        return
    fields = changed_fields(record, original)
    names = ", ".join((labels or {}).get(f, f) for f in fields) or "(only fields not on this form)"
    error = ConcurrentEdit(
        f"{type(record).__name__} {record.id} was changed by someone else while you edited it "
        f"(version {version} -> {record.version}); changed meanwhile: {names}. "
        "Reload the record, then apply your changes again."
    )
    error.fields = fields
    raise error
