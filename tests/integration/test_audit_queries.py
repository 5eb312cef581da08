"""Reading the audit log for the audit page: filters by patient reference, action, actor and calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.audit import service as audit
from core.audit.models import AuditEvent
from core.audit.queries import AuditFilters, search
from core.errors import ValidationError
from tests.support.matching import searching_patient


def ids(result) -> list[int]:
    return [row["id"] for row in result["rows"]]


def test_search__by_reference_finds_reads_record_changes_and_search_changes(session):
    mine, other = searching_patient(session, "Eins"), searching_patient(session, "Zwei")
    reference = mine.patient.reference
    rows = [
        audit.record(session, actor="a@example.org", action="patient.viewed", entity_type="patient",
                     entity_id=mine.patient_id),
        audit.record(session, actor="a@example.org", action="search.relax", entity_type="search", entity_id=mine.id),
        audit.record_read(session, actor="b@example.org", what="patient_list", page="patients",
                          references=[reference, other.patient.reference]),
    ]  # fmt: skip
    audit.record(session, actor="a@example.org", action="patient.viewed", entity_type="patient",
                 entity_id=other.patient_id)  # fmt: skip
    audit.record(session, actor="a@example.org", action="search.relax", entity_type="search", entity_id=other.id)
    session.flush()

    found = search(session, filters=AuditFilters(reference=reference.lower()))

    assert ids(found) == [r.id for r in reversed(rows)]
    assert found["rows"][0]["references"] == sorted([reference, other.patient.reference])


def test_search__reads_by_prefix_actor_by_part_and_days_in_local_time(session):
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 March in Berlin (UTC+1)
    day_row = AuditEvent(actor="nacht@example.org", action="login", occurred_at=late_evening)
    session.add(day_row)
    read = audit.record_read(session, actor="tag@example.org", what="mail", page="mailbox")
    session.flush()

    assert ids(search(session, filters=AuditFilters(action="read."))) == [read.id]
    assert ids(search(session, filters=AuditFilters(actor="NACHT"))) == [day_row.id]
    march_2 = AuditFilters(since=date(2026, 3, 2), until=date(2026, 3, 2))
    assert ids(search(session, filters=march_2)) == [day_row.id]
    assert ids(search(session, filters=AuditFilters(until=date(2026, 3, 1)))) == []


def test_search__pages_newest_first_and_clamps_the_page(session):
    made = [audit.record(session, actor="p@example.org", action="login") for _ in range(5)]
    session.flush()
    filters = AuditFilters(actor="p@example.org")
    assert ids(search(session, filters=filters, page=2, page_size=2)) == [made[2].id, made[1].id]
    last = search(session, filters=filters, page=99, page_size=2)
    assert (last["page"], last["pages"], last["total"], ids(last)) == (3, 3, 5, [made[0].id])


def test_search__a_range_ending_before_it_starts_is_refused(session):
    with pytest.raises(ValidationError, match=r"starts \(02.03.2026\) after it ends \(01.03.2026\); swap the dates"):
        search(session, filters=AuditFilters(since=date(2026, 3, 2), until=date(2026, 3, 1)))
