"""References between generated rows, resolved to database ids when the rows are written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    """Row ``key`` of ``table`` in the generated data; ``as_text`` for id columns stored as text."""

    table: str
    key: int
    as_text: bool = False
