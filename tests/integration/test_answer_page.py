"""The public answer page's core: valid, reused, tampered and expired links; answers go through record_answer."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.communication import answer_page, links
from core.communication.models import Email
from core.config import get_settings
from core.errors import ValidationError
from core.events.models import DomainEvent
from core.matching.models import AnswerSource, ItemOutcome, Placement
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
