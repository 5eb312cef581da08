"""Practice grouping as a pure decision: who belongs together, and which practice each group keeps."""

import pytest

from core.therapists.grouping import Member, address_key, channel_for, group_members, normalise_street, practice_moves


@pytest.mark.parametrize(
    ("street", "normal"),
    [
        ("Hauptstraße 12a", "hauptstrasse 12a"),  # ß
        ("Hauptstr. 12 a", "hauptstrasse 12a"),  # abbreviation, spaced house-number suffix
        ("Haupt-Str.12a", "hauptstrasse 12a"),  # hyphen, no blank before the number
        ("HAUPTSTRASSE  12A", "hauptstrasse 12a"),  # shouting and double blanks
        ("Straße des 17. Juni 5", "strasse des 17 juni 5"),  # a street that starts with "Straße"
        ("Am Markt 3", "am markt 3"),  # no "Straße" at all
        (None, ""),  # unknown
    ],
)
def test_normalise_street__compares_spellings_of_one_address(street, normal):
    assert normalise_street(street) == normal


def test_address_key__needs_street_and_postcode():
    assert address_key("Am Markt 3", "10115") == "10115|am markt 3"
    assert address_key("Am Markt 3", None) is None
    assert address_key(None, "10115") is None


def test_group_members__joins_by_email_or_address_transitively():
    members = [
        Member(1, "A@example.org", "Am Markt 1", "10115", None),
        Member(2, None, "Lindenweg 3", "10115", None),
        Member(3, " a@example.org", "Lindenweg 3", "10115", None),  # links 1 (e-mail) and 2 (address)
        Member(4, None, "Lindenweg 3", "20095", None),  # same street, other PLZ
    ]
    assert group_members(members) == [[1, 2, 3], [4]]


def test_group_members__does_not_depend_on_input_order():
    members = [Member(i, f"p{i % 3}@example.org", None, None, None) for i in range(1, 10)]
    assert group_members(members) == group_members(list(reversed(members))) == [[1, 4, 7], [2, 5, 8], [3, 6, 9]]


def test_practice_moves__group_keeps_the_practice_most_members_share():
    members = [
        Member(1, "team@example.org", None, None, 10),
        Member(2, "team@example.org", None, None, 10),
        Member(3, "team@example.org", None, None, 20),  # the odd one out joins practice 10
        Member(4, None, None, None, None),  # alone and new: a new practice
    ]
    moves, _groups = practice_moves(members)
    assert moves == {3: 10, 4: None}


def test_practice_moves__two_groups_never_share_a_practice():
    members = [
        Member(1, "big@example.org", None, None, 10),
        Member(2, "big@example.org", None, None, 10),
        Member(3, "small@example.org", None, None, 10),  # left behind in 10 by a data change
    ]
    moves, _groups = practice_moves(members)
    assert moves == {3: None}  # the bigger group keeps practice 10, the smaller one gets a new practice


def test_practice_moves__pinned_members_stay_and_hold_their_practice_together():
    members = [
        Member(1, "a@example.org", None, None, 10, pinned=True),
        Member(2, "b@example.org", None, None, 10, pinned=True),  # merged by staff: different e-mails
        Member(3, "b@example.org", None, None, None),  # a newcomer sharing an e-mail joins them
    ]
    moves, groups = practice_moves(members)
    assert (moves, groups) == ({3: 10}, [[1, 2, 3]])


@pytest.mark.parametrize(
    ("emails", "expected"),
    [
        (["Info@Praxis.de", None, "info@praxis.de ", "anna@praxis.de"], ("email", "info@praxis.de")),  # most common
        (["b@praxis.de", "a@praxis.de"], ("email", "a@praxis.de")),  # tie: alphabetical, so it is deterministic
        ([None, "  "], ("phone", None)),  # nobody has an e-mail address
    ],
)
def test_channel_for__email_if_any_member_has_one_else_phone(emails, expected):
    assert channel_for(emails) == expected
