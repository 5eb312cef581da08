"""Who is who in a directory import: the id first, then name + PLZ + street; one part differing is uncertain."""

from __future__ import annotations

import pytest

from core.directory.identity import Index, Known, name_key, street_key

HELD = Index([
    Known(1, "SYN-1", "Anna", "Beispiel", "10115", "Musterstraße 1"),
    Known(2, None, "Jörg", "Müller", "01067", "Probeweg 12a"),
])  # fmt: skip


@pytest.mark.parametrize(
    ("external_id", "first", "last", "postcode", "street", "expected"),
    [
        ("SYN-1", "Anna", "Umbenannt", "80331", "Neu 5", ("id", 1, None)),  # the id wins whatever else changed
        (None, "Joerg", "Mueller", "01067", "Probeweg 12 a", ("key", 2, None)),  # spelling does not matter
        ("SYN-9", "Jörg", "Müller", "01067", "Probeweg 12a", ("key", 2, None)),  # an id we do not know yet
        (None, "Jörg", "Müller", "01067", "Anderer Weg 3", ("uncertain", 2, "street")),  # moved within the PLZ
        (None, "Jörg", "Müller", "01069", "Probeweg 12a", ("uncertain", 2, "postcode")),
        (None, "Jan", "Müller", "01067", "Probeweg 12a", ("uncertain", 2, "name")),  # a colleague or a typo
        (None, "Jan", "Schulz", "01067", "Probeweg 12a", ("new", None, None)),  # another person at the address
        (None, "Jörg", "Müller", "80331", "Hauptstraße 1", ("new", None, None)),  # two parts differ: someone else
    ],
)
def test_match__follows_the_rules_in_order(external_id, first, last, postcode, street, expected):
    match = HELD.match(external_id=external_id, first_name=first, last_name=last, postcode=postcode, street=street)
    assert (match.kind, match.therapist_id, match.differs) == expected


def test_keys__fold_umlauts_titles_punctuation_and_street_spellings():
    assert name_key("Anna-Lena", " Müller ") == name_key("anna lena", "Mueller")
    assert street_key("Musterstraße 1") == street_key("Musterstr. 1") == street_key("Muster Str 1")
