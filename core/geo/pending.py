"""Geocode the patients, therapists and practices that still lack a usable location, batch by batch.

Pending are records without coordinates (or with precision "none") whose PLZ exists, and, when Nominatim
is configured, records placed at their PLZ centroid that have a street Nominatim has not been asked about
(no unexpired cache entry). Records without a valid PLZ cannot be located offline and are only counted
("unlocatable"): they stay "location missing" until staff fix the address.

The run commits after every ``batch_size`` records (through the ``commit`` callback of its caller), so
a run that is interrupted keeps what it finished and the next run resumes with the rest. Each record is
claimed with a transaction-level advisory lock, so two runs at once never work on the same record.
Coordinates are written only if the address is still the one that was geocoded; the record's version is
not bumped, so a form staff have open on it can still be saved.

Example:
    counts = geocode_pending(session, now=now, client=client, limit=100, commit=session.commit)
    counts  ->  {"patient": 40, "therapist": 60, "address": 55, "postcode": 45, "none": 0, ...}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session

import core.db.models  # noqa: F401 - registers every model, so the audit row's foreign keys resolve in a job process
from core.audit import service as audit
from core.events import service as events
from core.geo.geocoding import NominatimClient, client_from_settings, locate, normalise_query
from core.geo.models import GeocacheEntry, Postcode
from core.patients.models import LocationPrecision, Patient
from core.therapists.models import Practice, Therapist

ACTOR = "job:geocode_pending"
MODELS: dict[str, Any] = {"patient": Patient, "therapist": Therapist, "practice": Practice}
LOCK_NAMESPACE = {"patient": 7_246, "therapist": 7_247, "practice": 7_248}  # advisory lock: record claimed
BATCH_SIZE = 20  # records per commit: at most ~25 s of Nominatim work is lost when a run is interrupted
# A scheduled run (every 30 minutes) stops after this many records: at 1.1 s per Nominatim request that
# is about 22 minutes, so runs do not pile up; offline, the PLZ centroids take a few seconds.
SCHEDULED_LIMIT = 1_200


@dataclass(frozen=True)
class Pending:
    kind: str  # "patient", "therapist", "practice"
    id: int


def _missing(model: Any) -> Any:
    condition = and_(
        or_(model.latitude.is_(None), model.longitude.is_(None), model.location_precision == LocationPrecision.NONE),
        model.postcode.in_(select(Postcode.plz)),
    )
    return and_(condition, model.erased_at.is_(None)) if model is Patient else condition


def _unlocatable(model: Any) -> Any:
    condition = and_(
        or_(model.latitude.is_(None), model.location_precision == LocationPrecision.NONE),
        or_(model.postcode.is_(None), model.postcode.not_in(select(Postcode.plz))),
    )
    return and_(condition, model.erased_at.is_(None)) if model is Patient else condition


def pending(session: Session, *, now: datetime, online: bool, limit: int | None = None) -> list[Pending]:
    """Return the records to geocode: missing locations first, then (online) addresses not yet asked about."""
    work: list[Pending] = []
    for kind, model in MODELS.items():
        ids = session.scalars(select(model.id).where(_missing(model)).order_by(model.id))
        work += [Pending(kind, i) for i in ids]
    if online:
        fresh = set(session.scalars(select(GeocacheEntry.query).where(GeocacheEntry.expires_at > now)))
        for kind, model in MODELS.items():
            condition = and_(model.location_precision == LocationPrecision.POSTCODE, func.length(model.street) > 0)
            if model is Patient:
                condition = and_(condition, Patient.erased_at.is_(None))
            rows = session.execute(
                select(model.id, model.street, model.postcode, model.city).where(condition).order_by(model.id)
            )
            work += [Pending(kind, r.id) for r in rows if normalise_query(r.street, r.postcode, r.city) not in fresh]
    return work[:limit] if limit is not None else work


def unlocatable_count(session: Session) -> int:
    """Return how many records have no location and no valid PLZ (staff must fix their address)."""
    return sum(session.scalar(select(func.count()).where(_unlocatable(m))) or 0 for m in MODELS.values())


def _claim(session: Session, item: Pending) -> bool:
    return bool(
        session.execute(
            text("SELECT pg_try_advisory_xact_lock(:ns, :id)"), {"ns": LOCK_NAMESPACE[item.kind], "id": item.id}
        ).scalar()
    )


def _locate_one(session: Session, item: Pending, *, now: datetime, client: NominatimClient | None) -> str:
    """Geocode one record and store the result; return its precision, or "unchanged"/"changed_meanwhile"."""
    model = MODELS[item.kind]
    row = session.execute(
        select(model.street, model.postcode, model.city, model.latitude, model.longitude, model.location_precision)
        .where(model.id == item.id)
    ).one_or_none()  # fmt: skip
    if row is None:
        return "changed_meanwhile"
    where = locate(session, street=row.street, postcode=row.postcode, city=row.city, now=now, client=client)
    values: dict[str, Any] = {
        "latitude": where.latitude,
        "longitude": where.longitude,
        "location_precision": where.precision,
    }
    if hasattr(model, "location_source"):
        values["location_source"] = where.source
    before = {"latitude": row.latitude, "longitude": row.longitude, "location_precision": row.location_precision}
    changed = [name for name, value in before.items() if value != values[name]]
    if not changed:
        return "unchanged"
    if hasattr(model, "location_source"):
        changed.append("location_source")
    result = session.execute(
        update(model)
        .where(
            model.id == item.id,
            model.street.is_not_distinct_from(row.street),
            model.postcode.is_not_distinct_from(row.postcode),
            model.city.is_not_distinct_from(row.city),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        return "changed_meanwhile"
    details = {"fields": changed, "precision": where.precision.value, "source": where.source, "note": where.note}
    audit.record(session, actor=ACTOR, action="location.updated", entity_type=item.kind, entity_id=item.id,
                 details=details)  # fmt: skip
    events.emit(session, f"{item.kind}.location_updated", aggregate_type=item.kind, aggregate_id=item.id,
                payload={"precision": where.precision.value, "source": where.source})  # fmt: skip
    return where.precision.value


def geocode_pending(
    session: Session,
    *,
    now: datetime,
    client: NominatimClient | None,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
    commit: Callable[[], None] | None = None,
    progress: Callable[[int, int, Counter], None] | None = None,
) -> dict[str, int]:
    """Geocode pending records; call ``commit`` after each batch and ``progress(done, total, counts)`` per record.

    ``client`` None = offline: only the cache and PLZ centroids are used, nothing leaves the machine.
    Returns counts per kind and per precision, plus "unchanged", "changed_meanwhile", "claimed_elsewhere",
    "requests" (sent to Nominatim), "remaining" and "unlocatable".
    """
    work = pending(session, now=now, online=client is not None, limit=limit)
    counts: Counter = Counter()
    requests_before = client.requests if client else 0
    for done, item in enumerate(work, start=1):
        if not _claim(session, item):
            counts["claimed_elsewhere"] += 1
        else:
            outcome = _locate_one(session, item, now=now, client=client)
            counts[outcome] += 1
            if outcome in {p.value for p in LocationPrecision}:
                counts[item.kind] += 1
        if progress:
            progress(done, len(work), counts)
        if commit and done % batch_size == 0:
            commit()
    if commit:
        commit()
    result = {kind: counts[kind] for kind in MODELS}
    result |= {p.value: counts[p.value] for p in LocationPrecision}
    result |= {k: counts[k] for k in ("unchanged", "changed_meanwhile", "claimed_elsewhere")}
    result["requests"] = (client.requests if client else 0) - requests_before
    result["remaining"] = len(pending(session, now=now, online=client is not None))
    result["unlocatable"] = unlocatable_count(session)
    return result


def scheduled_run(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """The scheduler's entry: up to SCHEDULED_LIMIT records, committed per batch (dry run: offline, no commit)."""
    client = None if dry_run else client_from_settings(session)
    commit = None if dry_run else session.commit
    return geocode_pending(session, now=now, client=client, limit=SCHEDULED_LIMIT, commit=commit)
