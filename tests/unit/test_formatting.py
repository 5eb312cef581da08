"""Dates and times a person reads come out in the user's locale, the same way on every page."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from core import clock
from dashboards import formatting

LATE = datetime(2026, 12, 1, 23, 30, 9, tzinfo=UTC)  # 00:30:09 on 2 December in Berlin
REPO = Path(__file__).resolve().parents[2]


def test_moment__german_and_english_to_the_minute_and_with_seconds_for_logs():
    local = clock.local(LATE)
    assert formatting.moment(local, language="de") == "02.12.2026, 00:30"
    assert formatting.moment(local, language="en") == "2 Dec 2026, 00:30"
    assert formatting.moment(local, seconds=True, language="de") == "02.12.2026, 00:30:09"
    assert formatting.moment(None, language="de") == "—"


def dated(pattern: str) -> bool:
    return "%d" in pattern and "%H" in pattern


def test_pages__format_no_moment_with_a_hand_written_german_pattern():
    """A "%d.%m.%Y %H:%M" on a page shows German dates in the English UI and a second style next to moment()."""
    offenders = []
    for path in sorted((REPO / "dashboards").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and dated(node.value):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                spec = ast.unparse(node.format_spec)
                if dated(spec):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"use formatting.moment(clock.local(...)) instead: {offenders}"
