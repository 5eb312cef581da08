"""The public answer page's core: valid, reused, tampered and expired links; answers go through record_answer."""

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.communication import answer_page, links
from core.communication.models import Email
from core.config import get_settings
from core.errors import ValidationError
from core.events.models import DomainEvent
from core.matching import service as matching
from core.matching.models import AnswerSource, InquiryItem, ItemOutcome, Placement
from core.patients.models import SearchStatus
from tests.support.matching import NOW, searching_patient, sent, therapist


def _token(item_id: int, *, days: int = 42) -> str:
    return links.make_token(item_id, secret=get_settings().resolved_secret_key(), expires_at=NOW + timedelta(days=days))


def _writes(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (AuditEvent, DomainEvent, Email))


@pytest.fixture
def inquiry(session):
    doctor = therapist(session, "Kraus")
    return sent(session, doctor, [searching_patient(session, "Geheim"), searching_patient(session, "Muster")])


def test_load__shows_only_the_pseudonymous_summary(session, inquiry):
    view = answer_page.load(session, token=_token(inquiry.items[0].id), now=NOW)
    assert view.reference == inquiry.reference
    assert view.open
    assert set(view.summary) == {"patient_reference", "age", "gender", "insurance_type", "symptoms", "diagnoses",
                                 "availability", "procedure_wish"}  # fmt: skip
    assert "Geheim" not in str(view)


def test_submit__records_the_answer_through_record_answer_with_source_link(session, inquiry):
    item = inquiry.items[0]
    view = answer_page.submit(session, token=_token(item.id), outcome="accepted", message=" Gern! ",
                              proposed_first_session=date(2026, 12, 7), now=NOW)  # fmt: skip
    assert view.just_recorded
    assert view.outcome == ItemOutcome.ACCEPTED
    session.refresh(item)
    assert item.answer_source == AnswerSource.LINK
    assert item.answer_message == "Gern!"
    placement = session.scalar(select(Placement).where(Placement.inquiry_item_id == item.id))
    assert placement.first_session_on == date(2026, 12, 7)
    ack = session.scalar(select(Email).where(Email.template == "answer_ack"))
    assert inquiry.reference in ack.subject
    assert "Platz angeboten" in ack.body_text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("accepted", "accepted"),  # the same button clicked twice
        ("declined_capacity", "accepted"),  # a different answer through the same link later
    ],
)
def test_submit__a_reused_link_shows_the_recorded_answer_and_writes_nothing(session, inquiry, first, second):
    token = _token(inquiry.items[1].id)
    answer_page.submit(session, token=token, outcome=first, now=NOW)
    before = _writes(session)
    view = answer_page.submit(session, token=token, outcome=second, message="noch einmal", now=NOW + timedelta(hours=1))
    assert not view.just_recorded
    assert view.outcome == ItemOutcome(first)
    assert _writes(session) == before
    assert answer_page.load(session, token=token, now=NOW).outcome == ItemOutcome(first)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda item_id: _token(item_id)[:-2] + "xx", "invalid"),  # signature changed
        (lambda item_id: _token(item_id).replace(f"{item_id}.", f"{item_id + 1}.", 1), "invalid"),  # other item
        (lambda item_id: _token(item_id, days=-1), "expired"),  # expired yesterday
        (lambda item_id: None, "invalid"),  # no token in the address
    ],
)
def test_submit__a_tampered_or_expired_link_says_so_and_writes_nothing(session, inquiry, make, reason):
    item = inquiry.items[0]
    before = _writes(session)
    with pytest.raises(links.LinkError) as error:
        answer_page.submit(session, token=make(item.id), outcome="accepted", now=NOW)
    assert error.value.reason == reason
    with pytest.raises(links.LinkError):
        answer_page.load(session, token=make(item.id), now=NOW)
    assert _writes(session) == before
    session.refresh(item)
    assert item.outcome == ItemOutcome.PENDING


@pytest.mark.parametrize(
    ("outcome", "first_session", "field"),
    [
        ("no_answer", None, "outcome"),  # staff-only outcome
        ("pending", None, "outcome"),  # not an answer
        ("accepted", date(2026, 11, 1), "proposed_first_session"),  # appointment in the past
    ],
)
def test_submit__refuses_answers_the_page_does_not_offer(session, inquiry, outcome, first_session, field):
    before = _writes(session)
    with pytest.raises(ValidationError) as error:
        answer_page.submit(session, token=_token(inquiry.items[0].id), outcome=outcome,
                           proposed_first_session=first_session, now=NOW)  # fmt: skip
    assert error.value.field == field
    assert _writes(session) == before


def test_load__refuses_a_link_of_an_inquiry_that_was_never_sent(session):
    from tests.support.matching import propose

    inquiry = propose(session, therapist(session, "Kraus"), [searching_patient(session)])
    with pytest.raises(links.LinkError, match="never sent"):
        answer_page.load(session, token=_token(inquiry.items[0].id), now=NOW)


@pytest.fixture
def two_practices(session):
    """Lea's search went to Kraus and to Lorenz; both opened their answer page."""
    lea = searching_patient(session, "Beispiel")
    return sent(session, therapist(session, "Kraus"), [lea]), sent(session, therapist(session, "Lorenz"), [lea])


def test_submit__a_later_offer_for_a_placed_patient_is_a_conflict_with_its_message(session, two_practices):
    first, second = two_practices
    answer_page.submit(session, token=_token(first.items[0].id), outcome="accepted", now=NOW)
    late = answer_page.submit(session, token=_token(second.items[0].id), outcome="accepted",
                              message="Wir hätten ab Januar einen Platz.", now=NOW + timedelta(hours=2))  # fmt: skip
    assert (late.outcome, late.is_conflict, late.just_recorded) == (ItemOutcome.ACCEPTED, True, True)
    assert answer_page.notice(late, answered_here=True) == "late_offer"  # told: placed meanwhile, we get back to you
    assert answer_page.notice(answer_page.load(session, token=_token(second.items[0].id), now=NOW),
                              answered_here=False) == "late_offer_recorded"  # fmt: skip
    [conflict] = matching.list_conflicts(session)
    assert conflict["item_id"] == second.items[0].id
    assert conflict["answer_message"] == "Wir hätten ab Januar einen Platz."
    assert session.scalars(select(Placement.inquiry_item_id)).all() == [first.items[0].id]


def test_submit__the_late_offer_acknowledgement_says_the_person_was_placed_meanwhile(session, two_practices):
    first, second = two_practices
    answer_page.submit(session, token=_token(first.items[0].id), outcome="accepted", now=NOW)
    answer_page.submit(session, token=_token(second.items[0].id), outcome="accepted", now=NOW)
    first_ack, late_ack = session.scalars(select(Email).where(Email.template == "answer_ack").order_by(Email.id))
    assert "inzwischen" not in first_ack.body_text
    assert "inzwischen einen Platz gefunden" in late_ack.body_text
    assert "melden uns in Kürze mit den Kontaktdaten" not in late_ack.body_text


def test_submit__a_later_decline_for_a_placed_patient_writes_nothing_and_says_why(session, two_practices):
    first, second = two_practices
    answer_page.submit(session, token=_token(first.items[0].id), outcome="accepted", now=NOW)
    before = _writes(session)
    view = answer_page.submit(session, token=_token(second.items[0].id), outcome="declined_capacity", now=NOW)
    assert (view.outcome, view.just_recorded) == (ItemOutcome.WITHDRAWN, False)
    assert answer_page.notice(view, answered_here=False) == "placed_elsewhere"
    assert _writes(session) == before
    assert matching.list_conflicts(session) == []


def _hold_and_race(engine, first_submit, second_submit):
    """Run ``first_submit`` in an open transaction, start ``second_submit`` in a thread, let it queue, commit.

    Returns (first view, second view or the exception the second raised).
    """
    results = {}

    def second():
        try:
            with Session(engine) as db:
                results["second"] = second_submit(db)
                db.commit()
        except Exception as exc:  # handed to the test's assertions
            results["second"] = exc

    with Session(engine) as db:
        results["first"] = first_submit(db)
        thread = threading.Thread(target=second)
        thread.start()
        # wait until the second submit queues behind the first (each check in its own transaction: the
        # statistics views keep one snapshot per transaction)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            deadline = time.monotonic() + 60  # only a guard against hanging the suite; normally milliseconds
            while watcher.execute(waiting).scalar() == 0 and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        db.commit()
    thread.join(timeout=30)
    return results["first"], results["second"]


def test_submit__two_offers_at_once_give_one_placement_one_conflict_and_the_truth_to_both(committed_db):
    with Session(committed_db) as db:
        search = searching_patient(db, "Gleichzeitig")
        items = [sent(db, therapist(db, name), [search]).items[0].id for name in ("Kraus", "Lorenz")]
        db.commit()

    def offer(item_id, message):
        return lambda db: answer_page.submit(db, token=_token(item_id), outcome="accepted", message=message, now=NOW)

    won, late = _hold_and_race(committed_db, offer(items[0], "Gern."), offer(items[1], "Platz ab Montag."))
    assert answer_page.notice(won, answered_here=won.just_recorded) == "thanks"
    assert answer_page.notice(late, answered_here=late.just_recorded) == "late_offer"
    with Session(committed_db) as db:
        assert db.scalars(select(Placement.inquiry_item_id)).all() == [items[0]]
        [conflict] = matching.list_conflicts(db)
        assert (conflict["item_id"], conflict["answer_message"]) == (items[1], "Platz ab Montag.")


@pytest.mark.parametrize("again", ["accepted", "declined_capacity"])  # the same button twice; two tabs
def test_submit__a_double_submit_at_once_records_once_and_queues_one_acknowledgement(committed_db, again):
    with Session(committed_db) as db:
        item_id = sent(db, therapist(db, "Kraus"), [searching_patient(db, "Doppelt")]).items[0].id
        db.commit()

    def click(outcome):
        return lambda db: answer_page.submit(db, token=_token(item_id), outcome=outcome, now=NOW)

    first, second = _hold_and_race(committed_db, click("accepted"), click(again))
    assert first.just_recorded
    assert not isinstance(second, Exception), second
    assert (second.outcome, second.just_recorded) == (ItemOutcome.ACCEPTED, False)
    with Session(committed_db) as db:
        assert db.scalar(select(func.count()).select_from(Email).where(Email.template == "answer_ack")) == 1
        assert db.get(InquiryItem, item_id).outcome == ItemOutcome.ACCEPTED


def test_submit__an_offer_after_the_search_was_cancelled_is_a_conflict_without_claiming_a_placement(session):
    lea = searching_patient(session, "Beispiel")
    inquiry = sent(session, therapist(session, "Kraus"), [lea])
    lea.status = SearchStatus.CANCELLED
    view = answer_page.submit(session, token=_token(inquiry.items[0].id), outcome="accepted", now=NOW)
    assert view.is_conflict
    assert answer_page.notice(view, answered_here=True) == "search_ended"
