"""The set-based writes of the follow-up job write exactly the rows of the one-by-one writes they replace (#13).

``audit.record_all`` and ``events.emit_all`` (INSERT ... SELECT FROM unnest) against ``record`` / ``emit``,
``outbox.enqueue_all`` against ``enqueue`` for random recipients, therapists and patients, and
``inquiries.move_all`` (Core UPDATE ... RETURNING) against ``move``: every column but the ids, the times the
database sets and the random message ids; the audit chain stays intact.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.audit import chain
from core.audit import service as audit
from core.audit.models import AuditEvent
from core.communication import outbox
from core.communication.models import Email
from core.events import service as events
from core.events.models import DomainEvent
from core.matching import inquiries
from core.matching.models import InquiryStatus
from tests.support.matching import searching_patient, sent, therapist

NOW = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
WORDS = ["Lea", "Müller-Lüdenscheidt", "O'Brien", "<b>fett</b>", "a*b_c", "[x](y)", "# Titel", "", "ß ä ö",
         "Zeile\nzwei", "100 %", "\\", "\"zitiert\"", "🙂", "x" * 80]  # fmt: skip


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 2 else 5)
    if kind == 0:
        return rng.choice(WORDS)
    if kind == 1:
        return rng.randint(-(10**12), 10**12)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.random() * 1000
    if kind == 4:
        return rng.choice(WORDS) + str(rng.randint(0, 9))
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(WORDS) or "k": _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _details(rng: random.Random) -> dict:
    return {f"key{i}": _value(rng) for i in range(rng.randrange(5))}


def _audit_rows(session, after: int) -> list[tuple]:
    query = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
    return [(a.actor, a.actor_id, a.action, a.entity_type, a.entity_id, a.details, a.reason)
            for a in session.scalars(query)]  # fmt: skip


def _event_rows(session, after: int) -> list[tuple]:
    query = select(DomainEvent).where(DomainEvent.id > after).order_by(DomainEvent.id)
    return [(e.event_type, e.aggregate_type, e.aggregate_id, e.payload, e.published_at)
            for e in session.scalars(query)]  # fmt: skip


def _last(session, model) -> int:
    return session.scalar(select(func.coalesce(func.max(model.id), 0)))


def test_record_all__writes_the_rows_record_writes_one_by_one(session):
    rng = random.Random(13)
    for _round in range(20):
        rows = [(rng.choice([rng.randint(1, 10**9), rng.choice(WORDS[:-1]) or "e"]), rng.choice([_details(rng), None]))
                for _ in range(rng.randrange(1, 30))]  # fmt: skip
        reason, actor_id = rng.choice([None, "weil", "ä\n<b>"]), None
        before = _last(session, AuditEvent)
        for entity_id, details in rows:
            audit.record(session, actor="job:x", action="thing.done", entity_type="thing", entity_id=entity_id,
                         details=details, reason=reason, actor_id=actor_id)  # fmt: skip
        session.flush()
        middle = _last(session, AuditEvent)
        audit.record_all(session, actor="job:x", action="thing.done", entity_type="thing", rows=rows, reason=reason,
                         actor_id=actor_id)  # fmt: skip
        session.expire_all()
        assert _audit_rows(session, middle) == _audit_rows(session, before)[: len(rows)]
    assert chain.verify(session).ok


def test_emit_all__writes_the_rows_emit_writes_one_by_one(session):
    rng = random.Random(31)
    for _round in range(20):
        rows = [(rng.randint(1, 10**9), _details(rng)) for _ in range(rng.randrange(1, 30))]
        before = _last(session, DomainEvent)
        for aggregate_id, payload in rows:
            events.emit(session, "thing.done", aggregate_type="thing", aggregate_id=aggregate_id, payload=payload)
        session.flush()
        middle = _last(session, DomainEvent)
        events.emit_all(session, "thing.done", aggregate_type="thing", events=rows)
        session.expire_all()
        assert _event_rows(session, middle) == _event_rows(session, before)[: len(rows)]


def _mail_rows(session, after: int) -> list[tuple]:
    skip = {"id", "message_id", "created_at", "updated_at"}
    return [tuple(getattr(m, c.key) for c in Email.__table__.columns if c.key not in skip)
            for m in session.scalars(select(Email).where(Email.id > after).order_by(Email.id))]  # fmt: skip


def test_enqueue_all__writes_the_mails_audit_rows_and_events_enqueue_writes(session):
    rng = random.Random(7)
    mails = []
    for i in range(12):
        searches = [searching_patient(session, f"{rng.choice(['Lea', 'O*Brien', 'Zoë'])}{i}{n}")
                    for n in range(rng.randrange(1, 4))]  # fmt: skip
        row = sent(session, therapist(session, f"Kraus{i}", title=rng.choice([None, "Dr."])), searches,
                   now=NOW - timedelta(days=rng.randrange(1, 20)))  # fmt: skip
        context = outbox.inquiry_context(session, inquiry_id=row.id, now=NOW)
        context["therapist_name"] = rng.choice(WORDS[:-1]) or "Jana"  # names with Markdown and HTML
        context["practice_name"] = rng.choice(WORDS)
        ids = {"inquiry_id": row.id, "therapist_id": row.therapist_id, "patient_id": None}
        mails.append((rng.choice([context["to_address"], f"  praxis{i}@example.org "]), context, ids))
    for template in ("reminder", "inquiry"):
        before = (_last(session, Email), _last(session, AuditEvent), _last(session, DomainEvent))
        singles = [outbox.enqueue(session, template=template, to_address=address, context=context, now=NOW,
                                  actor="job:x", **ids).id for address, context, ids in mails]  # fmt: skip
        session.flush()
        middle = (_last(session, Email), _last(session, AuditEvent), _last(session, DomainEvent))
        batched = outbox.enqueue_all(session, template=template, mails=mails, now=NOW, actor="job:x")
        session.expire_all()
        assert len(batched) == len(singles) == len(mails)
        assert batched == sorted(batched)  # in the order of the mails
        assert _mail_rows(session, middle[0]) == _mail_rows(session, before[0])[: len(mails)]

        relabel = dict(zip(map(str, singles), map(str, batched), strict=True))
        audit_single = [(*r[:4], relabel[r[4]], *r[5:]) for r in _audit_rows(session, before[1])[: len(mails)]]
        assert _audit_rows(session, middle[1]) == audit_single
        events_single = [(*e[:2], relabel[e[2]], *e[3:]) for e in _event_rows(session, before[2])[: len(mails)]]
        assert _event_rows(session, middle[2]) == events_single


def test_move_all__leaves_the_inquiries_and_rows_move_leaves(session):
    rows = [sent(session, therapist(session, f"Zug{i}"), [searching_patient(session, f"Zug{i}")],
                 now=NOW - timedelta(days=9)) for i in range(8)]  # fmt: skip
    singles, batched = rows[:4], rows[4:]
    before = (_last(session, AuditEvent), _last(session, DomainEvent))
    for inquiry in singles:
        inquiries.move(session, inquiry, InquiryStatus.REMINDED, actor="job:x", details={"after_days": 7})
        inquiry.reminded_at = NOW
    session.flush()
    middle = (_last(session, AuditEvent), _last(session, DomainEvent))
    inquiries.move_all(session, [(inquiry, {"after_days": 7}) for inquiry in batched], InquiryStatus.REMINDED,
                       actor="job:x", values={"reminded_at": NOW})  # fmt: skip
    in_memory = [(i.status, i.reminded_at, i.version, i.updated_at) for i in batched]
    session.expire_all()
    assert in_memory == [(i.status, i.reminded_at, i.version, i.updated_at) for i in batched]  # what the rows hold

    def state(inquiry):
        return inquiry.status, inquiry.reminded_at, inquiry.version

    assert [state(i) for i in batched] == [state(i) for i in singles]

    def without_ids(rows, position):
        return [(*row[:position], *row[position + 1 :]) for row in rows]

    assert without_ids(_audit_rows(session, middle[0]), 4) == without_ids(_audit_rows(session, before[0])[:4], 4)
    single_events = [(e[0], e[1], e[3]["from"], e[3]["therapist_id"] - singles[0].therapist_id)
                     for e in _event_rows(session, before[1])[:4]]  # fmt: skip
    batched_events = [(e[0], e[1], e[3]["from"], e[3]["therapist_id"] - batched[0].therapist_id)
                      for e in _event_rows(session, middle[1])]  # fmt: skip
    assert batched_events == single_events
