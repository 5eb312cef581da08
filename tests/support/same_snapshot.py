"""Compare two matching snapshots field by field (frames, arrays and plain values)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.matching.snapshot import Snapshot


def assert_same_snapshot(mine: Snapshot, theirs: Snapshot) -> None:
    """Fail naming the first field in which the snapshots differ (frames with their dtypes)."""
    for name in Snapshot.__dataclass_fields__:
        left, right = getattr(mine, name), getattr(theirs, name)
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right, obj=name)
        elif isinstance(left, np.ndarray):
            assert left.dtype == right.dtype, name
            assert np.array_equal(left, right), name
        else:
            assert left == right, name
