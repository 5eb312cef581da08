"""Answers per inquiry item on real PostgreSQL: first acceptance wins, withdrawals, conflicts, cooldown, no-show."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.errors import IllegalTransition, ValidationError
from core.events.models import DomainEvent
from core.matching import service
from core.matching.models import InquiryStatus, ItemOutcome, Placement, ReplyType
from core.patients.models import Patient, PatientStatus, SearchStatus
from core.therapists.models import Practice
from tests.support.matching import NOW, STAFF, TODAY, propose, searching_patient, sent, therapist

COOLDOWN_END = TODAY + timedelta(weeks=4)  # MATCH_COOLDOWN_WEEKS default


def answer(session, item, outcome, **kwargs):
    return service.record_answer(session, item_id=item.id, outcome=outcome, actor=STAFF, now=NOW, **kwargs)


def audit_count(session, action):
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.fixture
def lea(session):
    return searching_patient(session, "Beispiel")


@pytest.fixture
def two_offers(session, lea):
    """Lea's search is in two sent inquiries, to Kraus (with Tom too) and to Lorenz (alone)."""
    tom = searching_patient(session, "Muster", first_name="Tom")
    kraus, lorenz = therapist(session, "Kraus"), therapist(session, "Lorenz")
    first = sent(session, kraus, [lea, tom])
    second = sent(session, lorenz, [lea])
    return first, second


def test_answer__first_acceptance_places_the_patient(session, lea, two_offers):
    first, _ = two_offers
    item = first.items[0]
    result = answer(session, item, "accepted", proposed_first_session=date(2026, 12, 7), source="link")
    placement = session.get(Placement, result.placement_id)
    patient = session.get(Patient, lea.patient_id)
    assert (result.outcome, result.changed, result.is_conflict) == (ItemOutcome.ACCEPTED, True, False)
    assert (lea.status, lea.ended_on, patient.status) == (SearchStatus.SUCCESSFUL, TODAY, PatientStatus.IN_THERAPY)
    assert (placement.search_id, placement.therapist_id, placement.inquiry_item_id) == (
        lea.id,
        first.therapist_id,
        item.id,
    )
    assert (placement.placed_on, placement.first_session_on) == (TODAY, date(2026, 12, 7))
    assert item.answer_source.value == "link"


def test_answer__acceptance_withdraws_the_searchs_other_open_items(session, two_offers):
    first, second = two_offers
    result = answer(session, first.items[0], "accepted")
    [withdrawn] = second.items
    assert result.withdrawn_item_ids == (withdrawn.id,)
    assert withdrawn.outcome == ItemOutcome.WITHDRAWN
    # nothing left to ask in the second inquiry: it closes without an answer; the first still waits for Tom
    assert (second.status, second.closed_at) == (InquiryStatus.EXPIRED, NOW)
    assert (first.status, first.items[1].outcome) == (InquiryStatus.SENT, ItemOutcome.PENDING)
    assert result.reply_type == ReplyType.PENDING
    assert audit_count(session, "inquiry_item.withdrawn") == 1


def test_answer__acceptance_drops_the_patient_from_unsent_proposals(session, lea, two_offers):
    proposal = propose(session, therapist(session, "Neumann"), [lea])
    answer(session, two_offers[0].items[0], "accepted")
    assert proposal.items[0].outcome == ItemOutcome.WITHDRAWN
    assert proposal.status == InquiryStatus.DISCARDED  # nothing left to propose


def test_answer__second_acceptance_is_a_conflict(session, lea, two_offers):
    first, second = two_offers
    answer(session, first.items[0], "accepted")
    late = answer(session, second.items[0], "accepted", message="Wir hätten einen Platz ab Januar.")
    assert (late.outcome, late.is_conflict, late.changed) == (ItemOutcome.ACCEPTED, True, True)
    assert session.scalar(select(func.count()).select_from(Placement)) == 1
    assert late.placement_id == session.scalars(select(Placement.id)).one()  # the first one's
    [conflict] = service.list_conflicts(session)
    assert (conflict["item_id"], conflict["search_id"]) == (second.items[0].id, lea.id)
    assert conflict["placed_with_therapist_id"] == first.therapist_id
    conflicts = select(func.count()).select_from(DomainEvent).where(DomainEvent.event_type == "placement.conflict")
    assert session.scalar(conflicts) == 1


def test_answer__acceptance_for_a_cancelled_search_is_a_conflict(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    lea.status, lea.ended_on = SearchStatus.CANCELLED, TODAY
    result = answer(session, inquiry.items[0], "accepted")
    assert result.is_conflict
    assert result.placement_id is None


@pytest.mark.parametrize(
    ("outcome", "cooldown_until"),
    [
        ("accepted", COOLDOWN_END),  # an acceptance is an answer
        ("declined_capacity", COOLDOWN_END),  # so is every decline
        ("declined_unsuitable", COOLDOWN_END),
        ("declined_other", COOLDOWN_END),
        ("no_answer", None),  # silence is not an answer: the ladder ends, no cooldown
        ("withdrawn", None),  # staff withdrew the patient: the practice said nothing
    ],
)
def test_answer__a_practice_answer_starts_its_cooldown(session, lea, outcome, cooldown_until):
    inquiry = sent(session, therapist(session), [lea])
    result = answer(session, inquiry.items[0], outcome)
    practice = session.get(Practice, inquiry.practice_id)
    assert practice.cooldown_until == cooldown_until
    assert result.cooldown_until == cooldown_until


def test_answer__cooldown_counts_from_the_local_day_of_the_answer(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    late_evening = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # already 27 November in Berlin
    service.record_answer(session, item_id=inquiry.items[0].id, outcome="declined_capacity", actor=STAFF,
                          now=late_evening)  # fmt: skip
    assert session.get(Practice, inquiry.practice_id).cooldown_until == date(2026, 11, 27) + timedelta(weeks=4)


def test_answer__cooldown_never_shrinks(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    practice = session.get(Practice, inquiry.practice_id)
    practice.cooldown_until = date(2027, 6, 1)  # set by staff or an earlier answer
    answer(session, inquiry.items[0], "declined_capacity")
    assert practice.cooldown_until == date(2027, 6, 1)


def test_answer__unsuitable_excludes_the_therapist_from_that_search(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    answer(session, inquiry.items[0], "declined_unsuitable")
    assert lea.excluded_therapist_ids == [inquiry.therapist_id]
    assert lea.status == SearchStatus.ACTIVE


@pytest.mark.parametrize(
    ("outcomes", "reply_type", "status"),
    [
        (["accepted", "accepted"], ReplyType.FULL_ACCEPTANCE, InquiryStatus.ANSWERED),  # both placed
        (["accepted", "declined_capacity"], ReplyType.PARTIAL_ACCEPTANCE, InquiryStatus.ANSWERED),  # mixed
        (["declined_other", "accepted"], ReplyType.PARTIAL_ACCEPTANCE, InquiryStatus.ANSWERED),  # order irrelevant
        (["declined_capacity", "declined_unsuitable"], ReplyType.FULL_DECLINE, InquiryStatus.ANSWERED),
        (["declined_capacity", "no_answer"], ReplyType.FULL_DECLINE, InquiryStatus.ANSWERED),  # one answer is enough
        (["no_answer", "no_answer"], ReplyType.NO_ANSWER, InquiryStatus.EXPIRED),  # nothing answered
        (["accepted"], ReplyType.PENDING, InquiryStatus.SENT),  # the second patient still waits
    ],
)
def test_answer__reply_type_is_derived_from_the_items(session, outcomes, reply_type, status):
    searches = [searching_patient(session, f"Muster{i}") for i in range(2)]
    inquiry = sent(session, therapist(session), searches)
    result = None
    for item, outcome in zip(inquiry.items, outcomes, strict=False):
        result = answer(session, item, outcome)
    assert (result.reply_type, result.inquiry_status) == (reply_type, status)
    assert (inquiry.reply_type, inquiry.status) == (reply_type, status)


def test_answer__same_answer_twice_returns_the_first_unchanged(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    first = answer(session, inquiry.items[0], "accepted", source="link")
    again = answer(session, inquiry.items[0], "accepted", source="link")
    assert (again.changed, again.placement_id, again.outcome) == (False, first.placement_id, ItemOutcome.ACCEPTED)
    assert audit_count(session, "inquiry_item.answered") == 1
    assert audit_count(session, "placement.created") == 1


def test_answer__a_different_answer_on_an_answered_item_names_the_recorded_one(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    answer(session, inquiry.items[0], "declined_capacity")
    with pytest.raises(IllegalTransition, match=r"has the outcome 'declined_capacity'; it cannot become 'accepted'"):
        answer(session, inquiry.items[0], "accepted")


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ("maybe", "Outcome 'maybe' is unknown; e.g. accepted, declined_capacity"),  # typo
        ("pending", "'pending' is not an answer"),  # the starting state
    ],
)
def test_answer__invalid_outcome_names_the_valid_ones(session, lea, outcome, message):
    inquiry = sent(session, therapist(session), [lea])
    with pytest.raises(ValidationError, match=message):
        answer(session, inquiry.items[0], outcome)


def test_answer__a_proposal_cannot_be_answered(session, lea):
    proposal = propose(session, therapist(session), [lea])
    with pytest.raises(IllegalTransition, match=r"is 'proposed': it was never sent"):
        answer(session, proposal.items[0], "accepted")


def test_answer__no_show_reopens_the_search_and_excludes_the_therapist(session, lea, two_offers):
    first, _ = two_offers
    item = first.items[0]
    answer(session, item, "accepted")
    result = answer(session, item, "no_show")
    patient = session.get(Patient, lea.patient_id)
    assert (result.outcome, result.placement_id) == (ItemOutcome.NO_SHOW, None)
    assert session.scalar(select(func.count()).select_from(Placement)) == 0
    assert (lea.status, lea.ended_on, patient.status) == (SearchStatus.ACTIVE, None, PatientStatus.SEARCHING)
    assert lea.excluded_therapist_ids == [first.therapist_id]
    assert audit_count(session, "search.reopened") == 1
    assert audit_count(session, "placement.removed") == 1


def test_answer__no_show_needs_an_acceptance_first(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    with pytest.raises(IllegalTransition, match=r"'pending'; it cannot become 'no_show'"):
        answer(session, inquiry.items[0], "no_show")


def test_answer__in_sessions_confirms_the_placement(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    accepted = answer(session, inquiry.items[0], "accepted")
    later = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    service.record_answer(session, item_id=inquiry.items[0].id, outcome="in_sessions", actor=STAFF, now=later,
                          proposed_first_session=date(2026, 12, 8))  # fmt: skip
    placement = session.get(Placement, accepted.placement_id)
    assert (placement.first_session_confirmed_at, placement.first_session_on) == (later, date(2026, 12, 8))
    assert inquiry.items[0].answered_at == NOW  # the time of the practice's answer stays


def test_answer__audit_names_the_message_but_never_its_text(session, lea):
    inquiry = sent(session, therapist(session), [lea])
    answer(session, inquiry.items[0], "declined_other", message="Patientin wirkt zu belastet (Suizidgedanken)")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "inquiry_item.answered")).one()
    assert event.details["message"] is True
    assert "Suizid" not in str(event.details)


# --- conflicts ----------------------------------------------------------------------------------------------


@pytest.fixture
def conflict(session, lea, two_offers):
    first, second = two_offers
    answer(session, first.items[0], "accepted")
    answer(session, second.items[0], "accepted")
    return second.items[0]


def test_resolve_conflict__offer_sends_another_waiting_patient_overriding_the_limits(session, conflict):
    waiting = searching_patient(session, "Wartend", started_on=date(2026, 3, 1))
    created = service.resolve_conflict(session, item_id=conflict.id, action="offer", other_search_id=waiting.id,
                                       actor=STAFF, now=NOW)  # fmt: skip
    assert (created.status, created.override_reason, created.therapist_id) == (
        InquiryStatus.APPROVED,
        "conflict resolution",
        conflict.inquiry.therapist_id,
    )
    assert [i.search_id for i in created.items] == [waiting.id]
    assert created.reference.startswith("A-2026-")
    override = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "inquiry.contact_limit_override",
                                 AuditEvent.entity_id == str(created.id))
    ).one()  # fmt: skip
    assert override.reason == "conflict resolution"
    assert "cooldown" in override.details["rules"]  # the practice has just answered
    assert conflict.conflict_resolved_at == NOW
    assert conflict.outcome == ItemOutcome.ACCEPTED  # what the practice said stays on record
    assert service.list_conflicts(session) == []


def test_resolve_conflict__close_records_the_place_as_not_taken(session, conflict):
    assert service.resolve_conflict(session, item_id=conflict.id, action="close", actor=STAFF, now=NOW) is None
    assert (conflict.outcome, conflict.is_conflict, conflict.conflict_resolved_at) == (
        ItemOutcome.DECLINED_OTHER,
        True,
        NOW,
    )
    assert service.list_conflicts(session) == []


@pytest.mark.parametrize(
    ("action", "other", "message"),
    [
        ("ignore", None, "Action 'ignore' is unknown; use offer or close"),  # typo
        ("offer", None, "Choose the waiting patient to offer, e.g. other_search_id=42"),  # who?
        ("offer", "placed", "is successful; choose an active one"),  # the placed patient herself
    ],
)
def test_resolve_conflict__bad_input_changes_nothing(session, lea, conflict, action, other, message):
    other_id = lea.id if other == "placed" else None
    with pytest.raises(ValidationError, match=message):
        service.resolve_conflict(session, item_id=conflict.id, action=action, other_search_id=other_id,
                                 actor=STAFF, now=NOW)  # fmt: skip
    assert conflict.conflict_resolved_at is None
    assert len(service.list_conflicts(session)) == 1


def test_resolve_conflict__only_once(session, conflict):
    service.resolve_conflict(session, item_id=conflict.id, action="close", actor=STAFF, now=NOW)
    with pytest.raises(ValidationError, match="is already resolved"):
        service.resolve_conflict(session, item_id=conflict.id, action="close", actor=STAFF, now=NOW)


def test_suggest_waiting_patients__fitting_active_searches_longest_waiting_first(session):
    kraus = therapist(session, "Kraus")
    newer = searching_patient(session, "Neu", started_on=date(2026, 9, 1))
    older = searching_patient(session, "Alt", started_on=date(2026, 2, 1))
    searching_patient(session, "Fern", location=(48.137, 11.575))  # Munich: too far
    searching_patient(session, "Tiefen", procedure_wishes=["TP"])  # wants a procedure Kraus does not offer
    searching_patient(session, "Kind", birth_date=date(2015, 1, 1))  # a child; Kraus treats adults
    excluded = searching_patient(session, "Ohne")
    excluded.excluded_therapist_ids = [kraus.id]
    session.flush()
    rows = service.suggest_waiting_patients(session, therapist_id=kraus.id, today=TODAY)
    assert [r["search_id"] for r in rows] == [older.id, newer.id]
    assert rows[0]["waiting_days"] == (TODAY - date(2026, 2, 1)).days
    assert 0 < rows[0]["distance_km"] < 5


def test_suggest_waiting_patients__relaxations_count(session):
    kraus = therapist(session, "Kraus")
    potsdam = searching_patient(session, "Potsdam", location=(52.39, 13.06), max_distance_km=10)  # ~27 km
    assert service.suggest_waiting_patients(session, therapist_id=kraus.id, today=TODAY) == []
    service.relax(session, search_id=potsdam.id, rule="distance", value=40, actor=STAFF, reason="rural", now=NOW)
    [row] = service.suggest_waiting_patients(session, therapist_id=kraus.id, today=TODAY)
    assert row["search_id"] == potsdam.id


def test_answer__two_acceptances_at_once_place_the_patient_once(committed_db):
    """Two answer links clicked at the same moment: the second waits for the first and becomes the conflict."""
    with Session(committed_db) as db:
        search = searching_patient(db, "Gleichzeitig")
        items = [sent(db, therapist(db, name), [search]).items[0].id for name in ("Kraus", "Lorenz")]
        db.commit()
    results = {}

    def click(item_id):
        with Session(committed_db) as db:
            results[item_id] = service.record_answer(db, item_id=item_id, outcome="accepted", actor="link",
                                                     now=NOW, source="link")  # fmt: skip
            db.commit()

    with Session(committed_db) as first:
        results[items[0]] = service.record_answer(first, item_id=items[0], outcome="accepted", actor="link", now=NOW)
        second = threading.Thread(target=click, args=(items[1],))
        second.start()
        # wait until the second click queues behind the first (each check in its own transaction: the
        # statistics views keep one snapshot per transaction)
        with committed_db.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            deadline = time.monotonic() + 60  # only a guard against hanging the suite; normally milliseconds
            while watcher.execute(waiting).scalar() == 0 and second.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        first.commit()
    second.join(timeout=30)
    assert not results[items[0]].is_conflict
    assert results[items[1]].is_conflict
    with Session(committed_db) as db:
        assert db.scalar(select(func.count()).select_from(Placement)) == 1
