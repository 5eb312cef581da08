"""The pure patient path: current step and days per step, from the days each step was reached."""

from datetime import date

import pytest

from core.operations.workflow import STEPS, current_step, path

TODAY = date(2026, 12, 14)
D = {n: date(2026, 12, d) for n, d in zip(STEPS, (1, 3, 4, 6, 10, 12), strict=True)}


@pytest.mark.parametrize(
    ("reached", "current", "days"),
    [
        # only registered: 13 days so far
        ({"registered": D["registered"]}, "registered", [13, None, None, None, None, None]),
        # consents two days after registration, search the next day, no inquiry yet
        ({k: D[k] for k in STEPS[:3]}, "search", [2, 1, 10, None, None, None]),
        # the whole path, placed two days ago
        (dict(D), "placement", [2, 1, 2, 4, 2, 2]),
        # consents withdrawn after the search started: the search still implies them (0 days between)
        ({"registered": D["registered"], "search": D["search"]}, "search", [3, 0, 10, None, None, None]),
        # consents granted again after the search started: they count from the search's day
        (
            {"registered": D["registered"], "consents": D["answers"], "search": D["search"]},
            "search",
            [3, 0, 10, None, None, None],
        ),
        # nothing known
        ({}, None, [None] * 6),
    ],
)
def test_path__current_step_and_days_in_each(reached, current, days):
    steps = path(reached, today=TODAY)
    assert current_step(steps) == current
    assert [s.days for s in steps] == days
    assert [s.name for s in steps] == list(STEPS)
