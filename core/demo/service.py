"""Seed deterministic synthetic demo data into the caller's transaction: the core of ``jobs.seed_demo``.

Example:
    with session_scope() as session:
        counts = seed(session, therapists=3000, patients=300, seed=42, today=date(2026, 3, 2))
    counts["therapist"]  # 3000
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import GeocacheEntry, Postcode, metadata
from core.demo.cleanup import count_existing, delete_demo_geocache, delete_demo_rows
from core.demo.generate import demo_now, generate
from core.demo.inbound import file_demo_mail
from core.demo.write import write_rows
from core.errors import ValidationError
from core.geo.postcodes import ensure_postcodes, german_places

MAX_COUNT = 100_000  # Germany has about 40,000 psychotherapists; anything above this is a typo
EXAMPLES = {"therapists": 3000, "patients": 300}


def validate_counts(*, therapists: int, patients: int) -> None:
    """Raise ValidationError naming the option unless both counts lie between 0 and 100,000."""
    for option, value in (("therapists", therapists), ("patients", patients)):
        example = f"e.g. --{option} {EXAMPLES[option]}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"--{option} must be a whole number, {example} (got {value!r})", field=option)
        if value < 0:
            raise ValidationError(f"--{option} must be 0 or more, {example} (got {value})", field=option)
        if value > MAX_COUNT:
            raise ValidationError(f"--{option} must be at most {MAX_COUNT}, {example} (got {value})", field=option)


def seed(
    session: Session, *, therapists: int, patients: int, seed: int, today: date, replace: bool = False
) -> dict[str, int]:
    """Write the demo data set for ``seed`` and ``today``; return rows written per table. Does not commit.

    Refuses a database that already holds patients or therapists unless ``replace`` is set; then the
    earlier demo data is deleted first, and records that are not demo data still make it refuse.
    """
    validate_counts(therapists=therapists, patients=patients)
    ensure_postcodes(session)
    existing = count_existing(session)
    if existing.patients or existing.therapists:
        if not replace:
            raise ValidationError(
                f"The database already holds {existing.patients} patients and {existing.therapists} therapists; "
                "run again with --replace (replace=True) to swap the demo data for new demo data, "
                "or point DATABASE_URL at an empty database",
                field="replace",
            )
        if existing.real_patients or existing.real_therapists:
            raise ValidationError(
                f"The database holds {existing.real_patients} patients and {existing.real_therapists} therapists "
                "that are not demo data; --replace only removes demo data, so seed into an empty database instead",
                field="replace",
            )
    if replace:
        delete_demo_rows(session)
    else:
        delete_demo_geocache(session)
    postcodes = [
        dict(row)
        for row in session.execute(
            select(Postcode.plz, Postcode.latitude, Postcode.longitude, Postcode.place, Postcode.state)
        ).mappings()
    ]
    data = generate(
        therapists=therapists, patients=patients, seed=seed, today=today, postcodes=postcodes, places=german_places()
    )
    queries = [row["query"] for row in data["geocache"]]
    cached = set(session.scalars(select(GeocacheEntry.query).where(GeocacheEntry.query.in_(queries))))
    data["geocache"] = [row for row in data["geocache"] if row["query"] not in cached]  # real lookups win
    counts = write_rows(session, data)
    touched = ("phone_call", "audit_event", "domain_event")  # filing mail audits it; a bounce schedules a call
    before = {table: _count(session, table) for table in touched}
    counts["inbound_mail"] = len(file_demo_mail(session, now=demo_now(today)))
    for table in touched:
        counts[table] += _count(session, table) - before[table]
    return counts


def _count(session: Session, table: str) -> int:
    return session.scalar(select(func.count()).select_from(metadata.tables[table])) or 0
