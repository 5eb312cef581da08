"""Every mail template, rendered in German from the demo data: no English text, no raw code, no decimal point."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.communication import outbox
from core.communication.templates import TEMPLATES, render
from core.demo import seed
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients.models import Patient, Search, SearchStatus
from tests.dashboards.test_german_everywhere import DECIMAL_POINT, ENGLISH

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
RAW = re.compile(
    r"\b(female|male|diverse|statutory|private|subsidy|self_pay|any|none|accepted|declined_\w+|pending|"
    r"individual|group|True|False|None|nan)\b"
)


@pytest.fixture
def demo(session: Session) -> Session:
    seed(session, therapists=300, patients=80, seed=11, today=TODAY)
    session.flush()
    return session


def contexts(session: Session) -> dict[str, dict]:
    sent = session.scalar(
        select(Inquiry.id)
        .join(InquiryItem)
        .where(Inquiry.status == InquiryStatus.SENT, InquiryItem.outcome == ItemOutcome.PENDING)
        .order_by(Inquiry.id)
        .limit(1)
    )
    answered = session.scalar(
        select(InquiryItem.inquiry_id)
        .where(InquiryItem.outcome.in_([ItemOutcome.ACCEPTED, ItemOutcome.DECLINED_CAPACITY]))
        .order_by(InquiryItem.id).limit(1)
    )  # fmt: skip
    accepted = session.scalar(
        select(InquiryItem.id).where(InquiryItem.outcome == ItemOutcome.ACCEPTED).order_by(InquiryItem.id).limit(1)
    )
    searching = session.scalar(
        select(Patient.id).join(Search).where(Search.status == SearchStatus.ACTIVE).order_by(Patient.id).limit(1)
    )
    inquiry = outbox.inquiry_context(session, inquiry_id=sent, now=NOW)
    placement = outbox.placement_context(session, item_id=accepted)
    patient = outbox.patient_context(session, patient_id=searching, now=NOW)
    return {
        "inquiry": inquiry,
        "reminder": inquiry,
        "answer_ack": outbox.answer_ack_context(session, inquiry_id=answered),
        "search_started": patient,
        "status_update": {**patient, "waiting_days": 45, "practices_asked": 6, "open_inquiries": 1},
        "placement_write": placement,
        "placement_call": placement,
    }


def test_every_mail_in_german__no_english_no_raw_codes_no_decimal_points(demo):
    rendered = {name: render(name, language="de", context=context) for name, context in contexts(demo).items()}
    assert set(rendered) == set(TEMPLATES)
    for name, mail in rendered.items():
        for part in (mail.subject, mail.text):
            assert not [p for p in ENGLISH if p in part], name
            assert not DECIMAL_POINT.search(part), (name, DECIMAL_POINT.search(part).group())
            assert not RAW.search(part), (name, RAW.search(part).group())
