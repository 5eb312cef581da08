"""Pseudonyms: the fast batch form gives exactly the keyed HMAC of each id."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from core.warehouse.pseudonyms import pseudonym, pseudonyms, warehouse_key


@pytest.mark.parametrize("kind", ["patient", "search", "staff"])
def test_pseudonyms__equal_the_hmac_of_each_id(kind):
    key = warehouse_key("a-secret-key-of-the-test-suite-0123456789")
    ids = [1, 42, 10**12, 7]
    expected = [
        f"{ {'patient': 'P', 'search': 'S', 'staff': 'U'}[kind] }-"
        + hmac.new(key, f"{kind}:{i}".encode(), hashlib.sha256).hexdigest()[:16]
        for i in ids
    ]
    assert pseudonyms(key, kind, ids) == expected == [pseudonym(key, kind, i) for i in ids]


def test_pseudonyms__differ_under_another_key():
    one, other = warehouse_key("first-secret-key-0123456789abcdef"), warehouse_key("second-secret-key-0123456789abc")
    assert pseudonyms(one, "search", [5]) != pseudonyms(other, "search", [5])
