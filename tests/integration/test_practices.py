"""Practices on real PostgreSQL: grouping by e-mail and address, one contact channel, split and merge."""

from datetime import date

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.errors import NotFound, ValidationError
from core.matching.models import Inquiry
from core.therapists import practices
from core.therapists import service as therapists
from core.therapists.models import Practice, Therapist

TODAY = date(2026, 11, 26)
STAFF = "anna@example.org"


def add(session, first, last, *, email=None, street=None, postcode="10115", phone=None, **extra):
    data = {"first_name": first, "last_name": last, "postcode": postcode, "street": street, "email": email,
            "phone": phone, "procedures": ["VT individual adults"], **extra}  # fmt: skip
    return therapists.create(session, data=data, actor=STAFF, today=TODAY, allow_duplicate=True)


def groups(session) -> list[list[str]]:
    """The practices as sorted lists of last names, sorted: what grouping decided, independent of ids."""
    rows = session.execute(select(Therapist.practice_id, Therapist.last_name)).all()
    by_practice: dict[int, list[str]] = {}
    for practice_id, last_name in rows:
        by_practice.setdefault(practice_id, []).append(last_name)
    return sorted(sorted(names) for names in by_practice.values())


def practice_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Practice))


def test_grouping__same_email_in_any_spelling_is_one_practice(session):
    add(session, "Ada", "Abel", email="Info@Praxis-Mitte.example.org", street="Am Markt 1")
    add(session, "Ben", "Berg", email=" info@praxis-mitte.example.org ", street="Ringstraße 9", postcode="20095")
    assert groups(session) == [["Abel", "Berg"]]


@pytest.mark.parametrize(
    ("street_a", "street_b", "together"),
    [
        ("Hauptstraße 12a", "Hauptstr. 12 a", True),  # abbreviation and spacing
        ("Hauptstraße 12", "HAUPTSTRASSE 12", True),  # case and ß
        ("Haupt-Str. 12", "Hauptstraße 12", True),  # hyphen
        ("Hauptstraße 12", "Hauptstraße 14", False),  # neighbouring house
        ("Hauptstraße 12", None, False),  # no street: a PLZ alone says nothing
    ],
)
def test_grouping__identical_normalised_address_is_one_practice(session, street_a, street_b, together):
    add(session, "Ada", "Abel", street=street_a)
    add(session, "Ben", "Berg", street=street_b)
    expected = [["Abel", "Berg"]] if together else [["Abel"], ["Berg"]]
    assert groups(session) == expected


def test_grouping__same_address_in_another_plz_is_another_practice(session):
    add(session, "Ada", "Abel", street="Hauptstraße 12", postcode="10115")
    add(session, "Ben", "Berg", street="Hauptstraße 12", postcode="20095")
    assert groups(session) == [["Abel"], ["Berg"]]


def test_grouping__links_chain_through_email_and_address(session):
    add(session, "Ada", "Abel", email="abel@example.org", street="Am Markt 1")
    add(session, "Cem", "Cohn", street="Lindenweg 3")
    add(session, "Ben", "Berg", email="abel@example.org", street="Lindenweg 3")  # joins both: one practice
    assert groups(session) == [["Abel", "Berg", "Cohn"]]
    assert practice_count(session) == 1  # the practice left empty by the join was removed


def test_grouping__contact_channel_is_email_if_any_member_has_one_else_phone(session):
    first = add(session, "Ada", "Abel", street="Am Markt 1", phone="030 1111111")
    practice = session.get(Practice, first.practice_id)
    assert (practice.contact_channel.value, practice.email_normalized, practice.phone) == (
        "phone",
        None,
        "+49301111111",
    )
    add(session, "Ben", "Berg", street="Am Markt 1", email="Berg@Example.org")
    assert (practice.contact_channel.value, practice.email_normalized) == ("email", "berg@example.org")


def test_regroup__is_deterministic_and_idempotent(session):
    add(session, "Ada", "Abel", email="a@example.org", street="Am Markt 1")
    add(session, "Ben", "Berg", email="a@example.org")
    add(session, "Cem", "Cohn", street="Am Markt 1")
    add(session, "Dora", "Dahl", street="Am Markt 2")
    before = session.execute(select(Therapist.id, Therapist.practice_id).order_by(Therapist.id)).all()
    assert practices.regroup(session, actor=STAFF) == {"moved": 0, "created": 0, "removed": 0}
    assert session.execute(select(Therapist.id, Therapist.practice_id).order_by(Therapist.id)).all() == before
    assert groups(session) == [["Abel", "Berg", "Cohn"], ["Dahl"]]


def test_regroup__puts_scattered_colleagues_into_the_practice_most_of_them_share(session):
    ada = add(session, "Ada", "Abel", email="team@example.org")
    ben = add(session, "Ben", "Berg", email="team@example.org")
    cem = add(session, "Cem", "Cohn", email="solo@example.org")
    # an import put Cem's colleague into Cem's practice by mistake; regrouping all of them fixes it
    session.get(Therapist, ben.id).practice_id = cem.practice_id
    session.flush()
    counts = practices.regroup(session, actor=STAFF)
    assert counts["moved"] == 1
    assert ben.practice_id == ada.practice_id != cem.practice_id


def test_update__new_email_moves_the_therapist_and_removes_the_empty_practice(session):
    ada = add(session, "Ada", "Abel", email="abel@example.org")
    ben = add(session, "Ben", "Berg", email="berg@example.org")
    old_practice = ben.practice_id
    therapists.update(session, therapist_id=ben.id, version=ben.version, original=therapists.editable_values(ben),
                      changes={"email": "ABEL@example.org"}, actor=STAFF, today=TODAY)  # fmt: skip
    assert ben.practice_id == ada.practice_id
    assert session.get(Practice, old_practice) is None
    moves = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.practice_changed",
                                                     AuditEvent.entity_id == str(ben.id))).all()  # fmt: skip
    assert moves[-1].details == {"fields": ["practice_id"], "from_practice_id": old_practice,
                                 "to_practice_id": ada.practice_id}  # fmt: skip


@pytest.fixture
def team(session):
    """A practice of three sharing an inbox at one address."""
    return [
        add(session, first, last, email="team@example.org", street="Am Markt 1", phone="030 1111111")
        for first, last in (("Ada", "Abel"), ("Ben", "Berg"), ("Cem", "Cohn"))
    ]


def test_split__moves_the_therapist_into_its_own_practice_and_audits(session, team):
    ada, ben, _cem = team
    old = ada.practice_id
    new = practices.split(session, therapist_id=ben.id, actor=STAFF, reason="Eigene Praxis")
    assert ben.practice_id == new.id != old
    assert [t.last_name for t in practices.members(session, old)] == ["Abel", "Cohn"]
    assert (new.name, new.contact_channel.value, new.email_normalized) == (
        "Praxis Ben Berg",
        "email",
        "team@example.org",
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "practice.split")).one()
    assert (event.entity_id, event.details, event.reason) == (
        str(old),
        {"therapist_id": ben.id, "new_practice_id": new.id},
        "Eigene Praxis",
    )


def test_split__survives_a_later_regroup(session, team):
    ben = team[1]
    new = practices.split(session, therapist_id=ben.id, actor=STAFF)
    practices.regroup(session, actor=STAFF)
    newcomer = add(session, "Dora", "Dahl", email="team@example.org")
    assert ben.practice_id == new.id
    assert newcomer.practice_id == team[0].practice_id  # still joins the original practice


def test_split__alone_in_the_practice_is_refused(session):
    solo = add(session, "Ada", "Abel")
    with pytest.raises(ValidationError, match=f"Therapist {solo.id} is the only member of their practice"):
        practices.split(session, therapist_id=solo.id, actor=STAFF)
    assert practice_count(session) == 1


def test_merge__moves_members_keeps_history_and_stricter_cooldown(session, team):
    other = add(session, "Dora", "Dahl", email="dahl@example.org", street="Ringweg 2")
    source, target = other.practice_id, team[0].practice_id
    session.get(Practice, source).cooldown_until = date(2026, 12, 20)
    session.get(Practice, target).cooldown_until = date(2026, 12, 1)
    inquiry = Inquiry(reference="A-2026-000001", therapist_id=other.id, practice_id=source)
    session.add(inquiry)
    session.flush()

    merged = practices.merge(session, source_id=source, target_id=target, actor=STAFF, reason="Gleiche Praxis")

    assert merged.id == target
    assert session.get(Practice, source) is None
    assert [t.last_name for t in practices.members(session, target)] == ["Abel", "Berg", "Cohn", "Dahl"]
    assert merged.cooldown_until == date(2026, 12, 20)  # the practice is not contacted earlier than either asked
    session.refresh(inquiry)
    assert inquiry.practice_id == target  # contact limits keep counting the source's inquiries
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "practice.merged")).one()
    assert (event.entity_id, event.details["source_practice_id"], event.reason) == (
        str(target),
        source,
        "Gleiche Praxis",
    )


def test_merge__survives_a_later_regroup(session, team):
    other = add(session, "Dora", "Dahl", email="dahl@example.org", street="Ringweg 2")
    practices.merge(session, source_id=other.practice_id, target_id=team[0].practice_id, actor=STAFF)
    practices.regroup(session, actor=STAFF)
    assert groups(session) == [["Abel", "Berg", "Cohn", "Dahl"]]


@pytest.mark.parametrize(
    ("which", "error", "message"),
    [
        ("same", ValidationError, "cannot be merged with itself"),  # one practice twice
        ("missing", NotFound, "Practice 999999 does not exist"),  # unknown practice
    ],
)
def test_merge__bad_requests_change_nothing(session, team, which, error, message):
    target = team[0].practice_id
    source = target if which == "same" else 999_999
    with pytest.raises(error, match=message):
        practices.merge(session, source_id=source, target_id=target, actor=STAFF)
    assert groups(session) == [["Abel", "Berg", "Cohn"]]


def test_merge_candidates__lists_other_practices_at_the_same_plz(session, team):
    near = add(session, "Dora", "Dahl", street="Ringweg 2", postcode="10115")
    add(session, "Emil", "Ernst", street="Ringweg 2", postcode="20095")
    candidates = practices.merge_candidates(session, practice_id=team[0].practice_id)
    assert [(c.id, c.members) for c in candidates] == [(near.practice_id, 1)]
