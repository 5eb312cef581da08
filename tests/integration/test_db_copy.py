"""core.db.copy: rows written with COPY come back exactly, NULL and awkward text included."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from core.db.copy import copy_rows


def test_copy_rows__writes_every_value_back_exactly(session):
    session.execute(
        text("CREATE TEMP TABLE copied (n int, label text, flag boolean, at timestamptz, doc jsonb) ON COMMIT DROP")
    )
    at = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    awkward = 'comma, "quote", new\nline, back\\slash, ümlaut'
    rows = [
        (1, awkward, True, at, json.dumps({"sentence": awkward, "weight": -0.25})),
        (2, "", False, None, None),  # an empty string stays empty; None is NULL
        (None, None, None, None, json.dumps([])),
    ]

    written = copy_rows(session, "copied", ["n", "label", "flag", "at", "doc"], rows)

    back = session.execute(text("SELECT n, label, flag, at, doc FROM copied ORDER BY n NULLS LAST")).all()
    assert written == 3
    assert back[0] == (1, awkward, True, at, {"sentence": awkward, "weight": -0.25})
    assert back[1] == (2, "", False, None, None)
    assert back[2] == (None, None, None, None, [])


def test_copy_rows__without_rows_writes_nothing(session):
    session.execute(text("CREATE TEMP TABLE copied_empty (n int) ON COMMIT DROP"))
    assert copy_rows(session, "copied_empty", ["n"], []) == 0
    assert session.execute(text("SELECT count(*) FROM copied_empty")).scalar_one() == 0
