"""Approving an inquiry queues its mail in the same transaction; a refusal writes neither."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.communication import dispatch
from core.communication.models import Email, EmailStatus
from core.communication.outbox import inquiry_context
from core.demo import seed
from core.errors import WorkbenchError
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryStatus

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def proposals(session):
    seed(session, therapists=300, patients=80, seed=11, today=date(2026, 11, 26))
    matching.scheduled_run(session, now=NOW)
    return matching.list_proposals(session)


def mails(session, inquiry_id: int) -> list[Email]:
    return session.scalars(select(Email).where(Email.inquiry_id == inquiry_id)).all()


def test_approve_and_queue__writes_the_mail_and_the_state_together(session, proposals):
    with_mail = next(
        p for p in proposals if inquiry_context(session, inquiry_id=p["inquiry_id"], now=NOW).get("to_address")
    )
    email = dispatch.approve_and_queue(session, inquiry_id=with_mail["inquiry_id"], actor="anna@example.org", now=NOW)
    assert email.status == EmailStatus.QUEUED
    assert with_mail["reference"] in email.subject
    assert session.get(Inquiry, with_mail["inquiry_id"]).status == InquiryStatus.QUEUED


def test_approve_and_queue__a_refused_approval_queues_no_mail(session, proposals):
    inquiry_id = proposals[0]["inquiry_id"]
    dispatch.approve_and_queue(session, inquiry_id=inquiry_id, actor="anna@example.org", now=NOW)
    before = session.scalar(select(func.count()).select_from(Email))
    with pytest.raises(WorkbenchError):
        dispatch.approve_and_queue(session, inquiry_id=inquiry_id, actor="anna@example.org", now=NOW)  # twice
    assert session.scalar(select(func.count()).select_from(Email)) == before
