"""Generate the whole demo data set as rows, without touching a database: same seed and today, same rows.

Rows carry small integer keys and ``Ref`` objects instead of database ids; ``core.demo.write`` turns
them into ids. "Now" is 10:30 on ``today`` in Berlin: this morning's matching run is done and staff
have started to review its proposals; six months of history lie before it.

Example:
    data = generate(therapists=300, patients=30, seed=42, today=date(2026, 3, 2),
                    postcodes=postcode_rows(), places=german_places())
    data["therapist"][0]["postcode"]  # e.g. "10115"
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from core.demo.correspondence import email_rows, phone_call_rows
from core.demo.directory import generate_directory
from core.demo.geocache import geocache_rows
from core.demo.history import History
from core.demo.job_runs import job_run_rows
from core.demo.journal import Journal
from core.demo.patient_calls import patient_call_rows
from core.demo.patients import generate_patients
from core.demo.places import PostcodePicker
from core.demo.present import review_this_morning, settle_placements, show_rare_search_states
from core.demo.records import (
    consent_rows,
    inquiry_rows,
    item_rows,
    placement_rows,
    search_rows,
    update_patients,
    update_practices,
)
from core.demo.refs import Ref

Row = dict[str, Any]
DemoData = dict[str, list[Row]]

# Parents before children, and audit/domain events last because their payloads point at everything.
INSERT_ORDER = (
    "practice",
    "therapist",
    "patient",
    "patient_call",
    "followup_task",
    "consent",
    "search",
    "inquiry",
    "inquiry_item",
    "placement",
    "email",
    "phone_call",
    "job_run",
    "geocache",
    "audit_event",
    "domain_event",
)
TIMEZONE = ZoneInfo("Europe/Berlin")  # the placement service works on German time
NOW_TIME = time(10, 30)


def demo_now(today: date) -> datetime:
    """Return the demo's "now": 10:30 in Berlin on ``today``."""
    return datetime.combine(today, NOW_TIME, TIMEZONE)


def generate(
    *,
    therapists: int,
    patients: int,
    seed: int,
    today: date,
    postcodes: Sequence[Mapping[str, Any]],
    places: Sequence[Mapping[str, Any]],
) -> DemoData:
    """Return the demo rows per table, in ``INSERT_ORDER``."""
    now = demo_now(today)
    picker = PostcodePicker(postcodes, places)
    fake = Faker("de_DE")
    fake.seed_instance(f"{seed}:directory")
    practices, therapist_rows = generate_directory(
        count=therapists, rng=_rng(seed, "directory"), fake=fake, picker=picker, today=today, now=now
    )
    fake.seed_instance(f"{seed}:patients")
    drafts = generate_patients(
        count=patients,
        therapists=therapists,
        rng=_rng(seed, "patients"),
        fake=fake,
        picker=picker,
        today=today,
        now=now,
    )
    journal = Journal()
    history = History(
        rng=_rng(seed, "history"),
        today=today,
        now=now,
        practices=practices,
        therapists=therapist_rows,
        patients=drafts,
        journal=journal,
    )
    history.run()
    present = _rng(seed, "present")
    review_this_morning(history, present)
    settle_placements(history, present)
    show_rare_search_states(history, present)
    update_patients(history)
    update_practices(history)
    records = _rng(seed, "records")
    emails = email_rows(history, records)
    calls = phone_call_rows(history, records)
    patient_calls, tasks = patient_call_rows(drafts, rng=_rng(seed, "patient_calls"), today=today, now=now,
                                             journal=journal)  # fmt: skip
    _record_status_changes(journal, therapist_rows, _rng(seed, "status"), now)
    journal.audit(
        now,
        "demo.seed",
        details={"seed": seed, "today": today.isoformat(), "therapists": therapists, "patients": patients},
    )
    audits, events = journal.rows(now)
    imported = sum(1 for t in therapist_rows if t["source"] == "116117")
    data: DemoData = {
        "practice": practices,
        "therapist": therapist_rows,
        "patient": [draft.row for draft in drafts],
        "patient_call": patient_calls,
        "followup_task": tasks,
        "consent": consent_rows(history, records),
        "search": search_rows(history),
        "inquiry": inquiry_rows(history),
        "inquiry_item": item_rows(history),
        "placement": placement_rows(history),
        "email": emails,
        "phone_call": calls,
        "job_run": job_run_rows(
            rng=_rng(seed, "jobs"),
            today=today,
            now=now,
            rounds=history.rounds,
            emails=emails,
            calls=calls,
            imported=imported,
        ),
        "geocache": geocache_rows(practices, now),
        "audit_event": audits,
        "domain_event": events,
    }
    return {table: data[table] for table in INSERT_ORDER}


def _record_status_changes(journal: Journal, therapists: list[Row], rng: random.Random, now: datetime) -> None:
    """Audit why therapists are blocked or inactive: staff set those states with a reason."""
    for therapist in therapists:
        if therapist["status"] == "active":
            continue
        at = max(therapist["created_at"], now - timedelta(days=rng.randint(5, 150)))
        action = "therapist.block" if therapist["status"] == "blocked" else "therapist.deactivate"
        journal.audit(
            at,
            action,
            entity=Ref("therapist", therapist["id"]),
            reason=therapist["status_reason"],
            details={"until": therapist["status_until"].isoformat() if therapist["status_until"] else None},
        )


def _rng(seed: int, stage: str) -> random.Random:
    # one generator per stage: more patients do not change the therapists, and vice versa
    return random.Random(f"{seed}:{stage}")  # noqa: S311 - reproducible synthetic demo data, never a secret
