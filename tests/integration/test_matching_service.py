"""Matching service on real PostgreSQL: storing proposals, review, edits, contact limits, relaxations, queries."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from core.audit.models import AuditEvent
from core.config import load_settings
from core.errors import ConcurrentEdit, IllegalTransition, NotFound, ValidationError
from core.events.models import DomainEvent
from core.matching import references, service, transitions
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.proposals import MatchingResult, ProposedInquiry, ProposedItem
from core.patients.models import SearchStatus
from core.therapists.models import Practice
from tests.support.matching import NOW, STAFF, TODAY, propose, result_for, searching_patient, sent, therapist

S, Out = InquiryStatus, ItemOutcome


def count(session, model, *conditions):
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def audits(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def lea(session):
    return searching_patient(session, "Beispiel")


@pytest.fixture
def tom(session):
    return searching_patient(session, "Muster", first_name="Tom")


@pytest.fixture
def kraus(session):
    return therapist(session, "Kraus")


# --- state tables (pure) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PROPOSED, S.APPROVED, True),  # staff approve a proposal
        (S.PROPOSED, S.DISCARDED, True),  # or discard it
        (S.PROPOSED, S.SENT, False),  # nothing goes out unreviewed
        (S.APPROVED, S.QUEUED, True),  # the message waits in the outbox
        (S.APPROVED, S.DISCARDED, True),  # still unsent: may be discarded
        (S.QUEUED, S.SENT, True),
        (S.QUEUED, S.DISCARDED, False),  # the mail may already be on its way
        (S.SENT, S.REMINDED, True),
        (S.SENT, S.ANSWERED, True),
        (S.SENT, S.DISCARDED, False),  # a sent inquiry cannot be unsent
        (S.REMINDED, S.CALL_SCHEDULED, True),
        (S.CALL_SCHEDULED, S.EXPIRED, True),  # no answer after the calls
        (S.ANSWERED, S.SENT, False),  # final
        (S.EXPIRED, S.APPROVED, False),  # final
        (S.DISCARDED, S.APPROVED, False),  # final
    ],
)
def test_inquiry_transitions__follow_the_design_table(current, target, allowed):
    if allowed:
        transitions.check_inquiry(current, target, label="A-2026-000001")
    else:
        with pytest.raises(IllegalTransition, match=rf"A-2026-000001 in state '{current.value}' cannot become"):
            transitions.check_inquiry(current, target, label="A-2026-000001")


def test_inquiry_transitions__error_names_the_allowed_states():
    with pytest.raises(IllegalTransition, match=r"allowed: approved, discarded$"):
        transitions.check_inquiry(S.PROPOSED, S.SENT, label="A-2026-000001")
    with pytest.raises(IllegalTransition, match=r"allowed: none \(final state\)"):
        transitions.check_inquiry(S.ANSWERED, S.SENT, label="A-2026-000001")


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Out.PENDING, Out.ACCEPTED, True),
        (Out.PENDING, Out.DECLINED_CAPACITY, True),
        (Out.PENDING, Out.NO_ANSWER, True),
        (Out.PENDING, Out.WITHDRAWN, True),  # another therapist accepted first
        (Out.PENDING, Out.NO_SHOW, False),  # a no-show needs an acceptance first
        (Out.PENDING, Out.IN_SESSIONS, False),
        (Out.ACCEPTED, Out.NO_SHOW, True),
        (Out.ACCEPTED, Out.IN_SESSIONS, True),
        (Out.ACCEPTED, Out.DECLINED_OTHER, False),  # an answer is not replaced by another
        (Out.WITHDRAWN, Out.ACCEPTED, True),  # a late acceptance, recorded as a conflict
        (Out.WITHDRAWN, Out.DECLINED_CAPACITY, False),  # nothing left to decline
        (Out.DECLINED_CAPACITY, Out.ACCEPTED, False),
        (Out.NO_ANSWER, Out.ACCEPTED, False),
        (Out.IN_SESSIONS, Out.NO_SHOW, False),  # the therapy began
        (Out.NO_SHOW, Out.ACCEPTED, False),
    ],
)
def test_outcome_transitions__follow_the_design_table(current, target, allowed):
    if allowed:
        transitions.check_outcome(current, target, label="Item 1")
    else:
        with pytest.raises(IllegalTransition, match=rf"Item 1 has the outcome '{current.value}'"):
            transitions.check_outcome(current, target, label="Item 1")


# --- references ----------------------------------------------------------------------------------------------


def test_references__count_up_and_carry_the_year(session):
    first, second = references.allocate(session, count=2, year=2026)
    assert first.startswith("A-2026-")
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_references__skip_numbers_written_without_the_sequence(session, kraus):
    # the demo data numbers its own inquiries; a fresh database's sequence would start at 1
    session.add(Inquiry(reference="A-2025-009000", therapist_id=kraus.id, status="answered"))
    session.flush()
    [reference] = references.allocate(session, count=1, year=2026)
    assert reference == "A-2026-009001"


# --- storing proposals ---------------------------------------------------------------------------------------


def test_store_proposals__stores_inquiries_with_items_scores_and_factors(session, lea, tom, kraus):
    [inquiry] = service.store_proposals(
        session, result=result_for((kraus, [lea, tom]), exploration=True), run_id="run-1", actor=STAFF, now=NOW
    )
    assert (inquiry.status, inquiry.matching_run, inquiry.practice_id) == (S.PROPOSED, "run-1", kraus.practice_id)
    assert [i.search_id for i in inquiry.items] == [lea.id, tom.id]
    item = inquiry.items[0]
    assert (item.outcome, item.score, item.distance_km) == (Out.PENDING, 0.3, 2.04)
    assert item.factors == [{"code": "distance", "sentence": "2.0 km away (close)", "weight": 0.8}]
    assert (item.is_exploration, item.selection_probability) == (True, 0.2)


def test_store_proposals__audits_and_emits_counts_only(session, lea, tom, kraus):
    service.store_proposals(session, result=result_for((kraus, [lea, tom])), run_id="run-1", actor=STAFF, now=NOW)
    [event] = audits(session, "matching.proposals_stored")
    assert (event.entity_type, event.entity_id) == ("matching_run", "run-1")
    assert event.details == {"replaced": 0, "inquiries": 1, "items": 2, "exploration_items": 0}
    assert "Beispiel" not in str(event.details)
    assert count(session, DomainEvent, DomainEvent.event_type == "matching.proposals_stored") == 1


def test_store_proposals__rerun_replaces_only_unreviewed_proposals(session, lea, tom, kraus):
    lorenz = therapist(session, "Lorenz")
    first = service.store_proposals(
        session, result=result_for((kraus, [lea]), (lorenz, [tom])), run_id="run-1", actor=STAFF, now=NOW
    )
    service.approve(session, inquiry_id=first[0].id, actor=STAFF, now=NOW)
    old_references = {i.reference for i in first}
    second = service.store_proposals(session, result=result_for((lorenz, [tom])), run_id="run-2", actor=STAFF, now=NOW)
    statuses = dict(session.execute(select(Inquiry.reference, Inquiry.status)).all())
    assert statuses == {first[0].reference: S.APPROVED, second[0].reference: S.PROPOSED}
    assert second[0].reference not in old_references  # a replaced proposal's reference is never reused
    assert count(session, InquiryItem) == 2
    assert audits(session, "matching.proposals_stored")[-1].details["replaced"] == 1


def test_store_proposals__same_result_twice_leaves_one_copy(session, lea, kraus):
    for run in ("run-1", "run-2"):
        service.store_proposals(session, result=result_for((kraus, [lea])), run_id=run, actor=STAFF, now=NOW)
    assert count(session, Inquiry) == 1
    assert count(session, InquiryItem) == 1


def test_store_proposals__region_replaces_only_that_regions_proposals(session, kraus):
    berlin = searching_patient(session, "Berlin", postcode="10115")
    hamburg = searching_patient(session, "Hamburg", postcode="20095")
    lorenz = therapist(session, "Lorenz")
    service.store_proposals(session, result=result_for((kraus, [berlin]), (lorenz, [hamburg])), run_id="run-1",
                            actor=STAFF, now=NOW)  # fmt: skip
    service.store_proposals(session, result=MatchingResult(inquiries=()), run_id="run-2", actor=STAFF, now=NOW,
                            region="10")  # fmt: skip
    assert [i.items[0].search_id for i in session.scalars(select(Inquiry))] == [hamburg.id]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "has 0 patients; it must have 1 to 6"),  # an empty inquiry
        (["a"] * 7, "has 7 patients; it must have 1 to 6"),  # more than MATCH_INQUIRY_MAX_SIZE
        (["a", "a"], "names a search twice"),  # one search twice
    ],
)
def test_store_proposals__refuses_a_broken_result_and_keeps_the_old_proposals(session, lea, kraus, items, message):
    propose(session, kraus, [lea])
    broken = MatchingResult(
        inquiries=(
            ProposedInquiry(kraus.id, kraus.practice_id, tuple(ProposedItem(lea.id, 0.1, (), 1.0) for _ in items)),
        )
    )
    with pytest.raises(ValidationError, match=message):
        service.store_proposals(session, result=broken, run_id="run-2", actor=STAFF, now=NOW)
    assert count(session, Inquiry, Inquiry.status == S.PROPOSED) == 1


# --- approval and contact limits -----------------------------------------------------------------------------


def test_approve__moves_the_proposal_to_approved(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW, actor_id=None)
    assert (inquiry.status, inquiry.approved_at, inquiry.override_reason) == (S.APPROVED, NOW, None)
    [event] = audits(session, "inquiry.approved")
    assert event.details == {"from": "proposed", "to": "approved", "items": 1}


def _limit_case(session, rule, kraus, lea, tom):
    """Make approving a proposal to Kraus for Tom break ``rule``."""
    practice_row = session.get(Practice, kraus.practice_id)
    if rule == "open_inquiry":
        sent(session, therapist(session, "Kollegin", practice_row=practice_row), [lea])
    elif rule == "cooldown":
        practice_row.cooldown_until = TODAY + timedelta(days=3)
    elif rule == "monthly_cap":
        for days in (10, 20):  # two answered inquiries this month; MATCH_MONTHLY_CAP is 2
            old = sent(session, kraus, [searching_patient(session, f"Alt{days}")], now=NOW - timedelta(days=days))
            old.status = S.ANSWERED
    elif rule == "parallel_per_search":
        tom.max_parallel_inquiries = 1
        sent(session, therapist(session, "Andere"), [tom])
    session.flush()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("open_inquiry", r"the practice already has the open inquiry A-2026-\d{6}"),  # one open inquiry per practice
        ("cooldown", "the practice cools down until 29.11.2026"),  # after an answer
        ("monthly_cap", r"the practice had 2 inquiries in 30 days \(limit 2\)"),  # MATCH_MONTHLY_CAP
        ("parallel_per_search", r"already waits for 1 inquiries \(limit 1\)"),  # the search's own cap
    ],
)
def test_approve__refuses_a_broken_contact_limit_and_changes_nothing(session, lea, tom, kraus, rule, message):
    _limit_case(session, rule, kraus, lea, tom)
    inquiry = propose(session, kraus, [tom])
    before = len(audits(session, "inquiry.approved"))
    with pytest.raises(service.ContactLimitExceeded, match=message) as error:
        service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)
    assert [v.rule for v in error.value.violations] == [rule]
    assert "give an override reason, e.g." in str(error.value)
    assert inquiry.status == S.PROPOSED
    assert len(audits(session, "inquiry.approved")) == before


def test_approve__override_reason_is_stored_and_audited(session, lea, tom, kraus):
    _limit_case(session, "cooldown", kraus, lea, tom)
    inquiry = propose(session, kraus, [tom])
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW, override_reason=" Praxis bat um Anfragen ")
    assert (inquiry.status, inquiry.override_reason) == (S.APPROVED, "Praxis bat um Anfragen")
    [event] = audits(session, "inquiry.contact_limit_override")
    assert (event.reason, event.details["rules"], event.entity_id) == (
        "Praxis bat um Anfragen",
        ["cooldown"],
        str(inquiry.id),
    )


def test_approve__monthly_cap_follows_the_setting(session, lea, tom, kraus):
    sent(session, kraus, [lea], now=NOW - timedelta(days=5)).status = S.ANSWERED
    inquiry = propose(session, kraus, [tom])
    with pytest.raises(service.ContactLimitExceeded, match=r"limit 1"):
        service.approve(
            session, inquiry_id=inquiry.id, actor=STAFF, now=NOW, settings=load_settings(match_monthly_cap=1)
        )
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)  # default cap 2: fine


def test_approve__refuses_a_patient_placed_meanwhile(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea, tom])
    lea.status = SearchStatus.SUCCESSFUL
    with pytest.raises(ValidationError, match=r"the search of patient P-T\d+ is successful; remove the patient"):
        service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)


def test_approve__refuses_a_stale_version(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea])
    shown = inquiry.version
    service.add_search(session, inquiry_id=inquiry.id, search_id=tom.id, actor="ben@example.org", now=NOW)
    with pytest.raises(ConcurrentEdit, match="was changed by someone else"):
        service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW, version=shown)


def test_approve__twice_is_an_illegal_transition(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)
    with pytest.raises(IllegalTransition, match=r"in state 'approved' cannot become 'approved'; allowed: "):
        service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)


def test_approve_many__reports_each_inquiry_and_keeps_going(session, lea, tom, kraus):
    colleague = therapist(session, "Kollegin", practice_row=session.get(Practice, kraus.practice_id))
    other = therapist(session, "Lorenz")
    ids = [
        i.id
        for i in service.store_proposals(
            session, result=result_for((kraus, [lea]), (colleague, [tom]), (other, [tom])), run_id="run-1",
            actor=STAFF, now=NOW,
        )
    ]  # fmt: skip
    reports = service.approve_many(session, inquiry_ids=[*ids, ids[0]], actor=STAFF, now=NOW)
    assert [(r.inquiry_id, r.approved) for r in reports] == [(ids[0], True), (ids[1], False), (ids[2], True)]
    assert reports[1].violated_rules == ("open_inquiry",)  # same practice as the first one
    statuses = [session.get(Inquiry, i).status for i in ids]
    assert statuses == [S.APPROVED, S.PROPOSED, S.APPROVED]


# --- discard and sending steps -------------------------------------------------------------------------------


def test_discard__needs_a_reason_and_withdraws_the_items(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    with pytest.raises(ValidationError, match=r"A reason is required to discard an inquiry, e.g\."):
        service.discard(session, inquiry_id=inquiry.id, actor=STAFF, reason="  ", now=NOW)
    assert inquiry.status == S.PROPOSED
    service.discard(session, inquiry_id=inquiry.id, actor=STAFF, reason="Praxis schließt", now=NOW)
    assert (inquiry.status, inquiry.closed_at, inquiry.items[0].outcome) == (S.DISCARDED, NOW, Out.WITHDRAWN)
    assert audits(session, "inquiry.discarded")[0].reason == "Praxis schließt"


def test_discard__a_sent_inquiry_cannot_be_discarded(session, lea, kraus):
    inquiry = sent(session, kraus, [lea])
    with pytest.raises(IllegalTransition, match="in state 'sent' cannot become 'discarded'"):
        service.discard(session, inquiry_id=inquiry.id, actor=STAFF, reason="zu spät", now=NOW)


def test_mark_sent__records_the_time_and_the_practices_last_contact(session, lea, kraus):
    inquiry = sent(session, kraus, [lea])
    assert (inquiry.status, inquiry.sent_at) == (S.SENT, NOW)
    assert session.get(Practice, kraus.practice_id).last_contacted_at == NOW
    with pytest.raises(IllegalTransition, match="in state 'sent' cannot become 'queued'"):
        service.mark_queued(session, inquiry_id=inquiry.id, actor="job:send_mail", now=NOW)


# --- edits ---------------------------------------------------------------------------------------------------


def test_add_search__adds_an_unscored_item(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea])
    item = service.add_search(session, inquiry_id=inquiry.id, search_id=tom.id, actor=STAFF, now=NOW)
    assert [i.search_id for i in inquiry.items] == [lea.id, tom.id]
    assert (item.score, item.factors[0]["code"]) == (None, "added_by_staff")
    assert 0 < item.distance_km < 5
    assert audits(session, "inquiry.search_added")[0].details["search_id"] == tom.id


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("duplicate", r"is already in inquiry A-2026-"),  # a search once per inquiry
        ("full", r"already has 1 patients \(at most 1\); remove one first"),  # MATCH_INQUIRY_MAX_SIZE
        ("paused", "is paused; only active searches can be added"),
        ("excluded", "excludes this therapist"),
    ],
)
def test_add_search__refuses_and_changes_nothing(session, lea, tom, kraus, case, message):
    inquiry = propose(session, kraus, [lea])
    settings = load_settings(match_inquiry_max_size=1 if case == "full" else 6)
    search = lea if case == "duplicate" else tom
    if case == "paused":
        tom.status, tom.paused_until = SearchStatus.PAUSED, TODAY + timedelta(days=30)
    if case == "excluded":
        tom.excluded_therapist_ids = [kraus.id]
    session.flush()
    with pytest.raises(ValidationError, match=message):
        service.add_search(session, inquiry_id=inquiry.id, search_id=search.id, actor=STAFF, now=NOW, settings=settings)
    assert len(inquiry.items) == 1


def test_remove_item__keeps_at_least_one_patient(session, lea, tom, kraus):
    inquiry = propose(session, kraus, [lea, tom])
    service.remove_item(session, item_id=inquiry.items[0].id, actor=STAFF, now=NOW)
    assert [i.search_id for i in inquiry.items] == [tom.id]
    with pytest.raises(ValidationError, match="needs at least one patient; discard the inquiry instead"):
        service.remove_item(session, item_id=inquiry.items[0].id, actor=STAFF, now=NOW)


def test_edits__only_proposals_can_be_edited(session, lea, tom, kraus):
    inquiry = sent(session, kraus, [lea])
    with pytest.raises(IllegalTransition, match="is 'sent'; only proposals"):
        service.add_search(session, inquiry_id=inquiry.id, search_id=tom.id, actor=STAFF, now=NOW)


def test_swap_therapist__rechecks_the_new_practices_limits(session, lea, kraus):
    busy = therapist(session, "Lorenz")
    session.get(Practice, busy.practice_id).cooldown_until = TODAY + timedelta(days=10)
    inquiry = propose(session, kraus, [lea])
    with pytest.raises(service.ContactLimitExceeded, match=r"cools down until 06\.12\.2026"):
        service.swap_therapist(session, inquiry_id=inquiry.id, therapist_id=busy.id, actor=STAFF, now=NOW)
    assert inquiry.therapist_id == kraus.id
    service.swap_therapist(session, inquiry_id=inquiry.id, therapist_id=busy.id, actor=STAFF, now=NOW,
                           override_reason="Frau Lorenz rief an")  # fmt: skip
    assert (inquiry.therapist_id, inquiry.practice_id, inquiry.override_reason) == (
        busy.id,
        busy.practice_id,
        "Frau Lorenz rief an",
    )
    assert (inquiry.items[0].score, inquiry.items[0].factors[0]["code"]) == (None, "therapist_swapped")
    assert audits(session, "inquiry.contact_limit_override")[0].details == {"rules": ["cooldown"], "step": "swap"}
    # the reason given at the swap carries the approval
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)
    assert inquiry.status == S.APPROVED


def test_swap_therapist__to_a_free_practice_needs_no_override(session, lea, kraus):
    other = therapist(session, "Lorenz")
    inquiry = propose(session, kraus, [lea])
    service.swap_therapist(session, inquiry_id=inquiry.id, therapist_id=other.id, actor=STAFF, now=NOW)
    assert (inquiry.therapist_id, inquiry.override_reason) == (other.id, None)
    assert audits(session, "inquiry.therapist_swapped")[0].details == {
        "from_therapist_id": kraus.id,
        "to_therapist_id": other.id,
    }


# --- relaxations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "stored"),
    [
        ("distance", 25, 25.0),  # wider than the patient's 15 km
        ("distance", "22,5", 22.5),  # a German decimal from a form
        ("travel_time", 60, 60),
        ("therapist_gender", "any", "any"),
        ("procedure", "ANY", "any"),
        ("language", "any", "any"),
        ("availability_overlap", 0, 0.0),  # no overlap needed at all
        ("setting", "either", "either"),
    ],
)
def test_relax__stores_who_why_and_when(session, lea, rule, value, stored):
    service.relax(session, search_id=lea.id, rule=rule, value=value, actor=STAFF, reason="kaum Angebot", now=NOW)
    assert lea.relaxations == [{"rule": rule, "value": stored, "by": STAFF, "reason": "kaum Angebot",
                                "at": NOW.isoformat()}]  # fmt: skip
    [event] = audits(session, "search.relax")
    assert (event.details, event.reason) == ({"rule": rule, "value": stored}, "kaum Angebot")


@pytest.mark.parametrize(
    ("rule", "value", "reason", "message"),
    [
        ("radius", 25, "x", "Relaxation rule 'radius' is unknown; use one of distance, travel_time"),  # unknown rule
        ("distance", 10, "x", "must be more than the patient's 15 km and at most 200 km, e.g. 25"),  # narrower
        ("distance", 250, "x", "at most 200 km"),  # absurdly far
        ("distance", "weit", "x", "Relaxation 'distance' needs a number, e.g. 25"),  # not a number
        ("distance", True, "x", "needs a number"),  # a checkbox value is not a distance
        ("travel_time", 45.5, "x", "must be whole minutes"),
        ("therapist_gender", "female", "x", r"can only be 'any' \(got 'female'\), e.g. therapist_gender=any"),
        ("setting", "group", "x", "can only be 'either'"),
        ("availability_overlap", -1, "x", "must be 0 to 168 hours a week, e.g. 1"),
        ("distance", 25, "  ", "A reason is required for a relaxation"),  # who relaxes must say why
    ],
)
def test_relax__bad_input_names_rule_and_value_and_writes_nothing(session, lea, rule, value, reason, message):
    with pytest.raises(ValidationError, match=message):
        service.relax(session, search_id=lea.id, rule=rule, value=value, actor=STAFF, reason=reason, now=NOW)
    assert lea.relaxations == []
    assert audits(session, "search.relax") == []


def test_relax__a_rule_relaxed_again_replaces_its_value(session, lea):
    for value in (25, 40):
        service.relax(session, search_id=lea.id, rule="distance", value=value, actor=STAFF, reason="r", now=NOW)
    service.relax(session, search_id=lea.id, rule="setting", value="either", actor=STAFF, reason="r", now=NOW)
    assert [(r["rule"], r["value"]) for r in lea.relaxations] == [("distance", 40.0), ("setting", "either")]
    stored = session.execute(text("SELECT relaxations FROM search WHERE id = :id"), {"id": lea.id}).scalar()
    assert [r["value"] for r in stored] == [40.0, "either"]  # the JSON column really changed


def test_remove_relaxation__restores_the_patients_own_preference(session, lea):
    service.relax(session, search_id=lea.id, rule="distance", value=25, actor=STAFF, reason="r", now=NOW)
    service.remove_relaxation(session, search_id=lea.id, rule="distance", actor=STAFF, now=NOW)
    assert lea.relaxations == []
    with pytest.raises(ValidationError, match=r"has no relaxation 'distance' \(relaxed: none\)"):
        service.remove_relaxation(session, search_id=lea.id, rule="distance", actor=STAFF, now=NOW)


def test_relax__an_ended_search_cannot_be_relaxed(session, lea):
    lea.status = SearchStatus.SUCCESSFUL
    with pytest.raises(ValidationError, match="only active or paused searches can be relaxed"):
        service.relax(session, search_id=lea.id, rule="distance", value=25, actor=STAFF, reason="r", now=NOW)


# --- queries -------------------------------------------------------------------------------------------------


def test_list_proposals__grouped_by_inquiry_with_patients_scores_and_factors(session, lea, tom, kraus):
    propose(session, kraus, [lea, tom])
    [row] = service.list_proposals(session)
    assert (row["therapist_name"], row["practice_name"], row["postcode"]) == ("Jana Kraus", "Praxis Kraus", "10115")
    assert row["expected_placements"] == 0.6
    first = row["items"][0]
    assert first["patient_reference"].startswith("P-T")
    assert (first["age"], first["score"], first["distance_km"]) == (36, 0.3, 2.04)
    assert first["factors"][0]["code"] == "distance"
    assert first["waiting_days"] == (TODAY - date(2026, 6, 1)).days  # as of the proposal


def test_inquiry_detail__lists_next_states_and_the_audit_trail(session, lea, kraus):
    inquiry = propose(session, kraus, [lea])
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=NOW)
    detail = service.inquiry_detail(session, inquiry_id=inquiry.id)
    assert detail["allowed_transitions"] == ["answered", "call_scheduled", "discarded", "expired", "queued"]
    assert [e["action"] for e in detail["audit"]] == ["inquiry.approved"]
    with pytest.raises(NotFound, match="Inquiry 999999 does not exist"):
        service.inquiry_detail(session, inquiry_id=999999)


def test_open_inquiries_for_answers__only_those_still_waiting(session, lea, tom, kraus):
    waiting = sent(session, kraus, [lea, tom])
    done = sent(session, therapist(session, "Lorenz"), [searching_patient(session, "Fertig")])
    service.record_answer(session, item_id=done.items[0].id, outcome="declined_capacity", actor=STAFF, now=NOW)
    service.record_answer(session, item_id=waiting.items[0].id, outcome="declined_other", actor=STAFF, now=NOW)
    [row] = service.open_inquiries_for_answers(session)
    assert row["inquiry_id"] == waiting.id
    assert [i["outcome"] for i in row["items"]] == [Out.DECLINED_OTHER, Out.PENDING]  # mixed answers show
    assert row["pending_items"] == 1


def test_match_history__per_patient_and_per_therapist(session, lea, tom, kraus):
    inquiry = sent(session, kraus, [lea, tom])
    service.record_answer(session, item_id=inquiry.items[0].id, outcome="accepted", actor=STAFF, now=NOW)
    [row] = service.match_history(session, patient_id=lea.patient_id)
    assert (row["reference"], row["outcome"], row["therapist_name"]) == (inquiry.reference, Out.ACCEPTED, "Jana Kraus")
    assert row["placement_id"] is not None
    assert len(service.match_history(session, therapist_id=kraus.id)) == 2
    with pytest.raises(ValidationError, match="Give a patient_id or a therapist_id"):
        service.match_history(session)
