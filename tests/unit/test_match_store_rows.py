"""Stored proposal rows: the fast JSON of an item's factors and features says exactly what the slow one says."""

import json

import numpy as np
import pytest

from core.matching.pipeline import stored_features
from core.matching.proposals import Factor
from core.matching.score import FEATURE_COLUMNS, PriorModel, explain_rows
from core.matching.store import factors_json
from core.messages import Message, term
from tests.unit.test_match_score import random_features


@pytest.mark.parametrize("seed", range(3))
def test_factors_json__is_the_json_of_each_factors_stored_form(seed):
    frame = random_features(2_000, seed)
    explained = explain_rows(frame, PriorModel().contributions(frame))
    quoted = Message("factor.odd", 'Says "weight": 0.0 and {x}', x=term("t.x", 'a "b"'))
    explained.append((Factor("odd", quoted, -0.25), Factor("plain", "a plain sentence", float("nan"))))
    explained.append(())
    fragments = {}

    for factors in explained:
        fast = factors_json(factors, fragments)
        assert json.loads(fast) == json.loads(json.dumps([factor.as_dict() for factor in factors])) or (
            any(np.isnan(f.weight) for f in factors)  # NaN never equals NaN: compare the text instead
            and fast == json.dumps([factor.as_dict() for factor in factors])
        )


def test_stored_features__unknown_values_are_null_and_the_rest_plain_floats():
    frame = random_features(500, 7)

    rows = stored_features(frame)

    expected = [
        {c: (None if np.isnan(v) else float(v)) for c, v in zip(FEATURE_COLUMNS, values, strict=True)}
        for values in frame.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype=float).tolist()
    ]
    assert rows == expected
    assert all(type(v) is float for row in rows for v in row.values() if v is not None)
