"""Small cells for analysts: fewer than five patients is "< 5", and no hidden figure follows from a total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.warehouse.read import MIN_CELL, SUPPRESSED, suppress_small_cells


def hidden_rows(frame: pd.DataFrame, column: str = "searches") -> list[int]:
    return [i for i, value in enumerate(frame[column]) if value == SUPPRESSED]


def test_suppress__a_lone_small_row_takes_the_next_smallest_with_it():
    frame = pd.DataFrame({"region3": ["101", "102", "103"], "searches": [3, 40, 41], "rate": [0.5, 0.2, 0.3]})
    shown = suppress_small_cells(frame)
    # with 101 alone hidden, the total of 84 (the table without a region) minus 40 and 41 gives it away
    assert hidden_rows(shown) == [0, 1]
    assert shown.loc[1, "rate"] == SUPPRESSED
    assert shown.loc[2, "searches"] == 41
    assert shown.loc[2, "rate"] == 0.3
    assert list(shown["region3"]) == ["101", "102", "103"]  # labels stay readable


def test_suppress__two_small_rows_that_together_count_under_five_take_a_third():
    frame = pd.DataFrame({"region3": ["101", "102", "103", "104"], "searches": [1, 2, 30, 50]})
    # 1 + 2 = 3 hidden patients: still "fewer than five" in sum, so 30 is hidden as well
    assert hidden_rows(suppress_small_cells(frame)) == [0, 1, 2]


def test_suppress__nothing_small_nothing_hidden():
    frame = pd.DataFrame({"region3": ["101", "102"], "searches": [5, 12]})
    assert hidden_rows(suppress_small_cells(frame)) == []


def test_suppress__each_dimension_of_a_mart_is_its_own_line():
    frame = pd.DataFrame(
        {
            "dimension": ["region3", "region3", "region3", "procedure", "procedure"],
            "value": ["101", "102", "103", "VT", "TP"],
            "searches": [2, 9, 20, 11, 20],
        }
    )
    # region3: 2 hidden, so 9 too; procedure has no small row and keeps both figures
    assert hidden_rows(suppress_small_cells(frame)) == [0, 1]


def test_suppress__a_two_dimensional_table_is_protected_along_rows_and_columns():
    frame = pd.DataFrame(
        {
            "month": ["01", "01", "01", "02", "02", "02"],
            "region2": ["10", "20", "30", "10", "20", "30"],
            "searches": [2, 30, 40, 25, 35, 45],
        }
    )
    shown = suppress_small_cells(frame, lines=[["month"], ["region2"], []])
    hidden = set(hidden_rows(shown))
    assert 0 in hidden
    for columns in (["month"], ["region2"]):
        for _, line in frame.groupby(columns):
            shut = [i for i in line.index if i in hidden]
            assert len(shut) != 1, f"{columns} line {list(line.index)} hides a single row: recoverable"


@pytest.mark.parametrize("seed", range(20))  # random tables: the rule holds on every line, not just by example
def test_suppress__no_line_ever_reveals_a_hidden_count(seed):
    generator = np.random.default_rng(seed)
    rows = generator.integers(2, 12)
    frame = pd.DataFrame(
        {
            "dimension": generator.choice(["region3", "procedure"], rows),
            "value": [str(v) for v in range(rows)],
            "searches": generator.integers(0, 15, rows),
        }
    )
    shown = suppress_small_cells(frame)
    hidden = shown["searches"] == SUPPRESSED
    assert (hidden | (frame["searches"] >= MIN_CELL)).all()
    for _, line in frame.groupby("dimension"):
        shut = hidden[line.index]
        if shut.any() and not shut.all():
            assert shut.sum() >= 2
            assert line.loc[shut, "searches"].sum() >= MIN_CELL
