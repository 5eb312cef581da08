"""The batched follow-up job writes exactly what the per-item job wrote (recorded before batching, #13).

A small fixed world covers every ladder step (wait, reminder with one and two patients, call by hours and by
the default hours, a practice without e-mail, the next call attempt, expiry, a wrong number). The rows the
job writes (mails with their rendered bodies, calls, inquiry and item changes, audit rows, domain events)
are compared, with database ids replaced by stable labels, against ``followup_writes/expected.json``, which
the per-item job produced on this world.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.communication import followup
from core.communication.models import CallStatus, Email, PhoneCall
from core.events.models import DomainEvent
from core.matching.models import Inquiry, InquiryItem, InquiryStatus
from core.patients.models import Patient, Search
from core.therapists.models import Therapist
from tests.support.matching import practice, searching_patient, sent, therapist

EXPECTED = Path(__file__).parent / "followup_writes" / "expected.json"
SENT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
NOW = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
MON_FRI_9_10 = {str(day): [["09:00", "10:00"]] for day in range(5)}
TOKEN = re.compile(r"token=[^\s)\"<&]+")
ID_KEYS = {"inquiry_id": "inquiry", "item_id": "inquiry_item", "call_id": "phone_call", "search_id": "search",
           "therapist_id": "therapist", "email_id": "email", "next_call_id": "phone_call"}  # fmt: skip


def world(session) -> None:
    """Nine inquiries, one per ladder step; names make the labels."""

    def inquiry(name, patients=1, status=InquiryStatus.SENT, sent_at=SENT_AT, reminded_at=None, hours=MON_FRI_9_10,
                practice_row=None):  # fmt: skip
        searches = [searching_patient(session, f"{name}{i}") for i in range(patients)]
        row = sent(session, therapist(session, name, phone_hours=hours, practice_row=practice_row), searches,
                   now=sent_at)  # fmt: skip
        row.status, row.reminded_at = status, reminded_at
        return row

    inquiry("Warten", sent_at=NOW - timedelta(days=2))
    inquiry("Erinnern", sent_at=NOW - timedelta(days=8))
    inquiry("Zweierinnern", patients=2, sent_at=NOW - timedelta(days=9))
    inquiry("Anrufen", status=InquiryStatus.REMINDED, reminded_at=NOW - timedelta(days=8))
    inquiry("Standardzeiten", status=InquiryStatus.REMINDED, reminded_at=NOW - timedelta(days=8), hours=None)
    phone_only = practice(session, "Praxis ohne Mail", contact_channel="phone")
    phone_only.email_normalized = None
    inquiry("Ohnemail", status=InquiryStatus.SENT, sent_at=NOW - timedelta(days=8), practice_row=phone_only)
    for name, outcomes in (("Ablauf", ["not_reached"] * 3), ("Nochmal", ["not_reached"]), ("Falsch", ["wrong_number"])):
        row = inquiry(name, status=InquiryStatus.CALL_SCHEDULED, reminded_at=NOW - timedelta(days=20))
        for attempt, outcome in enumerate(outcomes, start=1):
            session.add(PhoneCall(inquiry_id=row.id, therapist_id=row.therapist_id, attempt=attempt,
                                  scheduled_for=NOW - timedelta(days=10 - attempt), status=CallStatus.FAILED,
                                  outcome=outcome))  # fmt: skip
    session.flush()


def labels(session) -> dict[tuple[str, str], str]:
    """Stable names for the ids of this world's rows."""
    names: dict[tuple[str, str], str] = {}
    for inquiry_id, therapist_id, last_name in session.execute(
        select(Inquiry.id, Inquiry.therapist_id, Therapist.last_name).join(
            Therapist, Therapist.id == Inquiry.therapist_id
        )
    ):
        names[("inquiry", str(inquiry_id))] = f"inquiry:{last_name}"
        names[("therapist", str(therapist_id))] = f"therapist:{last_name}"
    for item_id, search_id, last_name in session.execute(
        select(InquiryItem.id, InquiryItem.search_id, Patient.last_name)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Patient, Patient.id == Search.patient_id)
    ):
        names[("inquiry_item", str(item_id))] = f"item:{last_name}"
        names[("search", str(search_id))] = f"search:{last_name}"
    for call in session.scalars(select(PhoneCall)):
        names[("phone_call", str(call.id))] = f"call:{names[('inquiry', str(call.inquiry_id))]}:{call.attempt}"
    for email in session.scalars(select(Email)):
        names[("email", str(email.id))] = f"email:{names.get(('inquiry', str(email.inquiry_id)))}:{email.template}"
    return names


def words(session) -> list[tuple[str, str]]:
    """References and addresses (from counters and sequences) -> stable names, longest first."""
    pairs = [(i.reference, f"inquiry:{t.last_name}") for i, t in session.execute(
        select(Inquiry, Therapist).join(Therapist, Therapist.id == Inquiry.therapist_id))]  # fmt: skip
    pairs += [(t.email, f"mail:{t.last_name}") for t in session.scalars(select(Therapist)) if t.email]
    pairs += [(p.reference, f"patient:{p.last_name}") for p in session.scalars(select(Patient))]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def plain(text, replacements):
    text = TOKEN.sub("token=T", text)
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def relabel(value, names, kind=None):
    if isinstance(value, dict):
        return {k: relabel(v, names, ID_KEYS.get(k)) for k, v in value.items()}
    if kind and value is not None:
        return names.get((kind, str(value)), f"{kind}:{value}")
    return value


def writes(session, after_audit: int, after_event: int) -> dict:
    names, replacements = labels(session), words(session)
    at = lambda moment: moment.astimezone(UTC).isoformat() if moment else None  # noqa: E731
    mails = sorted(
        [names[("email", str(m.id))], m.template, m.language, *(plain(text, replacements) for text in
         (m.to_address, m.subject, m.body_text, m.body_html)), m.status.value, m.attempts, at(m.next_attempt_at)]
        for m in session.scalars(select(Email))
    )  # fmt: skip
    calls = sorted(
        [names[("phone_call", str(c.id))], at(c.scheduled_for), c.duration_minutes, c.status.value, c.outcome]
        for c in session.scalars(select(PhoneCall))
    )
    inquiries = sorted(
        [names[("inquiry", str(i.id))], i.status.value, at(i.reminded_at), at(i.call_scheduled_at), at(i.answered_at)]
        for i in session.scalars(select(Inquiry))
    )
    items = sorted(
        [names[("inquiry_item", str(i.id))], i.outcome.value, at(i.answered_at),
         i.answer_source.value if i.answer_source else None]
        for i in session.scalars(select(InquiryItem))
    )  # fmt: skip
    audit = sorted(
        [a.actor, a.action, relabel(a.entity_id, names, a.entity_type), json.dumps(relabel(a.details, names),
                                                                                      sort_keys=True)]
        for a in session.scalars(select(AuditEvent).where(AuditEvent.id > after_audit))
    )  # fmt: skip
    events = sorted(
        [e.event_type, relabel(e.aggregate_id, names, e.aggregate_type),
         plain(json.dumps(relabel(e.payload, names), sort_keys=True), replacements)]
        for e in session.scalars(select(DomainEvent).where(DomainEvent.id > after_event))
    )  # fmt: skip
    return {"mails": mails, "calls": calls, "inquiries": inquiries, "items": items, "audit": audit, "events": events}


def test_follow_up__batched_job_writes_what_the_per_item_job_wrote(session):
    world(session)
    after_audit = session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    after_event = session.scalar(select(func.coalesce(func.max(DomainEvent.id), 0)))
    counts = followup.run(session, now=NOW)
    session.expire_all()
    assert {k: v for k, v in counts.items() if v} == {"claimed": 9, "waiting": 1, "reminded": 2,
                                                      "calls_scheduled": 4, "expired": 1, "blocked": 1}  # fmt: skip
    assert writes(session, after_audit, after_event) == json.loads(EXPECTED.read_text(encoding="utf-8"))
