"""Directory import use cases: preview, commit (one transaction, set-based), history, layouts, vanish confirmation.

The caller owns the transaction. Example:

    sources = [Source.from_path("suche.json")]
    with session_scope() as session:
        result = preview(session, sources=sources, mappings={}, today=clock.today())   # writes nothing
        print(result.report["counts"])
    with session_scope() as session:
        record = commit(session, sources=sources, mappings={}, actor="anna@example.org", today=clock.today())
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.directory import placing, table_reader
from core.directory import plan as planning
from core.directory.entries import IMPORTED_FIELDS, LOCATION_SOURCE, Entry
from core.directory.models import DirectoryChange, DirectoryImport, DirectoryLayout, DirectoryListing, DirectoryReview
from core.directory.reading import Batch, Source, headers_of, read_sources
from core.errors import IllegalTransition, NotFound
from core.messages import Message
from core.therapists import practices
from core.therapists import service as therapists
from core.therapists.models import Therapist

GROUPING_FIELDS = {"email", "street", "postcode"}  # as core.therapists.service: may change the practice
REPORT_LIMIT = 500  # rows per list kept in an import's stored report; the counts are always complete
ACTION = "therapist.imported"
_AUDIT_ACTIONS = {"new": "therapist.created", "conflict": "therapist.import_conflict"}  # else ACTION


@dataclass
class Result:
    batch: Batch
    plan: planning.Plan
    report: dict[str, Any]


# ---- layouts (CSV column mappings) ---------------------------------------------------------------------------


def mapping_for(session: Session, *, source: Source) -> tuple[list[str], dict[str, str], bool]:
    """Return (headers, mapping, remembered) for a CSV/Excel file: the stored mapping of its layout or a guess."""
    headers = headers_of(source)
    layout = session.get(DirectoryLayout, table_reader.signature(headers))
    if layout is not None:
        return headers, dict(layout.mapping), True
    return headers, table_reader.suggest_mapping(headers), False


def remember_mapping(session: Session, *, headers: Sequence[str], mapping: Mapping[str, str], actor: str) -> None:
    """Store ``mapping`` for the layout with these headers (the next upload of that layout uses it)."""
    table_reader.check_mapping(mapping, file_name="layout")
    key = table_reader.signature(list(headers))
    layout = session.get(DirectoryLayout, key)
    if layout is None:
        session.add(DirectoryLayout(signature=key, headers=list(headers), mapping=dict(mapping), updated_by=actor))
    else:
        layout.mapping, layout.updated_by = dict(mapping), actor
    session.flush()


def resolve_mappings(session: Session, *, sources: Sequence[Source]) -> dict[str, dict[str, str]]:
    """The mapping of every CSV/Excel source: remembered per layout, else guessed (checked when read)."""
    return {s.name: mapping_for(session, source=s)[1] for s in sources if s.is_table}


# ---- reading what we hold ------------------------------------------------------------------------------------

_HELD = text(
    """
    SELECT t.id, t.external_id, t.title, t.first_name, t.last_name, t.gender, t.street, t.postcode, t.city,
           t.latitude, t.longitude, t.phone, t.email, t.website, t.procedures, t.languages, t.phone_hours,
           t.staff_edited_fields, t.status, l.therapist_id IS NOT NULL AS listed,
           coalesce(l.missed_imports, 0) AS missed_imports, l.not_seen_since,
           coalesce(l.deactivated_by_import, false) AS deactivated_by_import
    FROM therapist t LEFT JOIN directory_listing l ON l.therapist_id = t.id
    """
)
_HELD_FOR_ENTRIES = text(_HELD.text + " WHERE t.external_id = ANY(:ids) OR t.postcode = ANY(:postcodes)")
_HELD_BY_ID = text(_HELD.text + " WHERE t.id = ANY(:therapist_ids)")


def _held(session: Session, entries: Sequence[Entry]) -> list[planning.Held]:
    ids = [e.external_id for e in entries if e.external_id]
    postcodes = sorted({e.values["postcode"] for e in entries})
    return _held_rows(session.execute(_HELD_FOR_ENTRIES, {"ids": ids, "postcodes": postcodes}))


def _held_rows(rows: Any) -> list[planning.Held]:
    fields = len(IMPORTED_FIELDS)  # the SELECT lists them in this order after id and external_id
    return [
        planning.Held(
            id=r[0], external_id=r[1], values=dict(zip(IMPORTED_FIELDS, r[2 : 2 + fields], strict=True)),
            staff_edited=frozenset(r[2 + fields] or ()), status=r[3 + fields], listed=r[4 + fields],
            missed_imports=r[5 + fields], not_seen_since=r[6 + fields], deactivated_by_import=r[7 + fields],
        )
        for r in rows
    ]  # fmt: skip


# ---- preview ------------------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _entry_name(entry: Entry) -> str:
    v = entry.values
    return " ".join(p for p in (v["title"], v["first_name"], v["last_name"]) if p)


def _report(batch: Batch, plan: planning.Plan) -> dict[str, Any]:
    changed = plan.changed
    conflicts = [(u, f, c) for u in plan.updates for f, c in u.conflicts.items()]
    counts = {
        "entries": len(batch.entries), "new": len(plan.new), "changed": len(changed),
        "unchanged": len(plan.unchanged), "conflicts": len(conflicts), "review": len(plan.reviews),
        "not_seen": len([v for v in plan.vanished if v.newly_missed and not v.goes_inactive]),
        "inactive": len([v for v in plan.vanished if v.goes_inactive]),
        "back": len([u for u in plan.updates if u.comes_back]), "rejected": len(batch.rejected),
        "warnings": len(batch.problems) - len(batch.rejected), "changes": plan.change_count,
    }  # fmt: skip
    cap = REPORT_LIMIT
    return _json({
        "counts": counts,
        "covered_postcodes": plan.covered_postcodes,
        "new": [{"name": _entry_name(e), "postcode": e.values["postcode"], "city": e.values["city"],
                 "external_id": e.external_id} for e in plan.new[:cap]],
        "changed": [{"therapist_id": u.therapist_id, "name": _entry_name(u.entry), "field": f, "old": c[0], "new": c[1]}
                    for u in changed for f, c in u.changes.items()][:cap],
        "conflicts": [{"therapist_id": u.therapist_id, "name": _entry_name(u.entry), "field": f, "kept": c[0],
                       "imported": c[1]} for u, f, c in conflicts[:cap]],
        "review": [{"therapist_id": r.therapist_id, "name": _entry_name(r.entry), "differs": r.differs,
                    "external_id": r.entry.external_id} for r in plan.reviews[:cap]],
        "vanished": [{"therapist_id": v.therapist_id, "name": v.name, "postcode": v.postcode,
                      "not_seen_since": v.not_seen_since, "missed_imports": v.missed_imports,
                      "goes_inactive": v.goes_inactive, "newly_missed": v.newly_missed} for v in plan.vanished[:cap]],
        "back": [{"therapist_id": u.therapist_id, "name": _entry_name(u.entry)} for u in plan.updates
                 if u.comes_back][:cap],
        "problems": [p.as_dict() for p in batch.problems[: cap * 2]],
        "meta": batch.meta,
    })  # fmt: skip


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while an import builds its objects; reference counting still frees them.

    A nationwide file is a few million small objects (entries, rows, dicts) that live until the import ends;
    the collector traverses them again and again as they pile up (measured: 3 of 9 s CPU of reading the file).
    Nested uses leave the switch to the outermost one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def preview(session: Session, *, sources: Sequence[Source], mappings: Mapping[str, Mapping[str, str]] | None = None,
            today: date) -> Result:  # fmt: skip
    """Read the files and decide what importing them would do; write nothing."""
    with _no_cycle_collection():
        return _preview(session, sources=sources, mappings=mappings, today=today)


def _preview(session: Session, *, sources: Sequence[Source], mappings: Mapping[str, Mapping[str, str]] | None,
             today: date) -> Result:  # fmt: skip
    batch = read_sources(
        sources, mappings=mappings if mappings is not None else resolve_mappings(session, sources=sources)
    )
    plan = planning.build(batch.entries, _held(session, batch.entries), today=today)
    return Result(batch, plan, _report(batch, plan))


# ---- commit -------------------------------------------------------------------------------------------------


def _content_hash(entry: Entry) -> str:
    payload = json.dumps([entry.values, entry.consultation_hours], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _rows_statement(sql: str) -> Any:
    """``sql`` reading ``:rows`` as one JSON text: serialised once here, parsed once by the server (no round trip)."""
    return text(sql.replace("jsonb_to_recordset(:rows)", "jsonb_to_recordset(CAST(:rows AS jsonb))"))


def _rows_text(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=str)


def _recordset(session: Session, sql: str, rows: list[dict[str, Any]]) -> None:
    """Run ``sql`` once over all ``rows`` (passed as one JSONB array, read with jsonb_to_recordset)."""
    if rows:
        session.execute(_rows_statement(sql), {"rows": _rows_text(rows)})


_INSERT_NEW = """
    INSERT INTO therapist (title, first_name, last_name, gender, street, postcode, city, latitude, longitude,
        location_precision, location_source, phone, email, website, procedures, languages, phone_hours,
        pref_patient_gender, pref_diagnoses, statutory_licence, status, source, external_id, last_verified_on,
        last_seen_on, content_hash, staff_edited_fields, version, created_at, updated_at, id, practice_id)
    SELECT r.title, r.first_name, r.last_name, r.gender, r.street, r.postcode, r.city, r.latitude, r.longitude,
        CASE WHEN r.latitude IS NULL THEN 'none' ELSE 'address' END, CASE WHEN r.latitude IS NULL THEN NULL
        ELSE :location_source END, r.phone, r.email, r.website, r.procedures, r.languages, r.phone_hours, 'any',
        '{}', true, 'active', '116117', r.external_id, :today, :today, r.content_hash, '{}', 1, now(), now(),
        coalesce(r.id, nextval(pg_get_serial_sequence('therapist', 'id'))), r.practice_id
    FROM jsonb_to_recordset(:rows) AS r(id int, practice_id int, title text, first_name text, last_name text,
        gender text, street text, postcode text, city text, latitude float8, longitude float8, phone text,
        email text, website text, procedures jsonb, languages varchar[], phone_hours jsonb, external_id text,
        content_hash text, ord int)
    ORDER BY r.ord
    RETURNING id
"""
_DRAW_IDS = text("SELECT nextval(pg_get_serial_sequence('therapist', 'id')) FROM generate_series(1, :n) ORDER BY 1")
_UPDATE = """
    UPDATE therapist t SET title = r.title, first_name = r.first_name, last_name = r.last_name, gender = r.gender,
        street = r.street, postcode = r.postcode, city = r.city, latitude = r.latitude, longitude = r.longitude,
        location_precision = CASE WHEN r.latitude IS NULL THEN t.location_precision ELSE 'address' END,
        location_source = CASE WHEN r.latitude IS NULL THEN t.location_source ELSE :location_source END,
        phone = r.phone, email = r.email, website = r.website, procedures = r.procedures, languages = r.languages,
        phone_hours = r.phone_hours, external_id = coalesce(r.external_id, t.external_id),
        content_hash = r.content_hash, last_verified_on = :today, last_seen_on = :today, version = t.version + 1,
        updated_at = now()
    FROM jsonb_to_recordset(:rows) AS r(id int, title text, first_name text, last_name text, gender text,
        street text, postcode text, city text, latitude float8, longitude float8, phone text, email text,
        website text, procedures jsonb, languages varchar[], phone_hours jsonb, external_id text, content_hash text)
    WHERE t.id = r.id
"""
# seen today: a re-import on the same day leaves the rows as they are (every row version costs 14 index entries)
_SEEN = text(
    """
    UPDATE therapist SET last_verified_on = :today, last_seen_on = :today
    WHERE id = ANY(:ids) AND (last_verified_on IS DISTINCT FROM :today OR last_seen_on IS DISTINCT FROM :today)
    """
)
_LISTINGS = """
    INSERT INTO directory_listing (therapist_id, consultation_hours, details, last_import_id, not_seen_since,
        missed_imports, deactivated_by_import)
    SELECT r.id, r.hours, r.details, :import_id, NULL, 0, false
    FROM jsonb_to_recordset(:rows) AS r(id int, hours jsonb, details jsonb)
    WHERE NOT EXISTS (SELECT FROM directory_listing l WHERE l.therapist_id = r.id AND l.consultation_hours = r.hours
                      AND l.details = r.details AND l.not_seen_since IS NULL AND l.missed_imports = 0
                      AND NOT l.deactivated_by_import)  -- left as it is: not even locked by ON CONFLICT
    ON CONFLICT (therapist_id) DO UPDATE SET consultation_hours = excluded.consultation_hours,
        details = excluded.details, last_import_id = excluded.last_import_id, not_seen_since = NULL,
        missed_imports = 0, deactivated_by_import = false
    WHERE (directory_listing.consultation_hours, directory_listing.details, directory_listing.not_seen_since,
           directory_listing.missed_imports, directory_listing.deactivated_by_import)
        IS DISTINCT FROM (excluded.consultation_hours, excluded.details, NULL::date, 0, false)
"""  # a listing the import leaves as it is is not rewritten (a weekly import changes few of 40,000)
_CHANGES = """
    INSERT INTO directory_change (import_id, therapist_id, kind, field, old_value, new_value)
    SELECT :import_id, r.id, r.kind, r.field, r.old, r.new
    FROM jsonb_to_recordset(:rows) AS r(id int, kind text, field text, old jsonb, new jsonb)
"""
_AUDIT = """
    INSERT INTO audit_event (actor, action, entity_type, entity_id, details, reason)
    SELECT :actor, r.action, 'therapist', r.id::text, r.details, :reason
    FROM jsonb_to_recordset(:rows) AS r(id int, action text, details jsonb)
"""


def _status_changes(session: Session, plan: planning.Plan, *, import_id: int, today: date) -> list[dict[str, Any]]:
    """Mark missing therapists not seen / inactive, bring back those seen again; return their change rows."""
    changes: list[dict[str, Any]] = []
    missed = [v for v in plan.vanished if v.newly_missed]
    _recordset(session, """
        UPDATE directory_listing l SET missed_imports = r.missed, not_seen_since = r.since,
            deactivated_by_import = l.deactivated_by_import OR r.inactive
        FROM jsonb_to_recordset(:rows) AS r(id int, missed int, since date, inactive bool) WHERE l.therapist_id = r.id
    """, [{"id": v.therapist_id, "missed": v.missed_imports, "since": v.not_seen_since, "inactive": v.goes_inactive}
          for v in missed])  # fmt: skip
    inactive = [v for v in missed if v.goes_inactive]
    _recordset(session, """
        UPDATE therapist t SET status = 'inactive', status_reason = r.reason, status_until = NULL,
            version = t.version + 1, updated_at = now()
        FROM jsonb_to_recordset(:rows) AS r(id int, reason text) WHERE t.id = r.id
    """, [{"id": v.therapist_id, "reason": planning.INACTIVE_REASON.format(
        since=f"{v.not_seen_since:%d.%m.%Y}", count=v.missed_imports)} for v in inactive])  # fmt: skip
    back = [u.therapist_id for u in plan.updates if u.comes_back]
    _recordset(session, """
        UPDATE therapist t SET status = 'active', status_reason = NULL, status_until = NULL,
            version = t.version + 1, updated_at = now()
        FROM jsonb_to_recordset(:rows) AS r(id int) WHERE t.id = r.id AND t.status = 'inactive'
    """, [{"id": i} for i in back])  # fmt: skip
    for v in missed:
        kind = "inactive" if v.goes_inactive else "not_seen"
        changes.append({"id": v.therapist_id, "kind": kind, "field": "status" if v.goes_inactive else "last_seen_on",
                        "old": None, "new": "inactive" if v.goes_inactive else v.not_seen_since})  # fmt: skip
    changes += [{"id": i, "kind": "back", "field": "status", "old": "inactive", "new": "active"} for i in back]
    return changes


def _values_row(entry: Entry, **extra: Any) -> dict[str, Any]:
    return {**entry.values, "external_id": entry.external_id, "content_hash": _content_hash(entry), **extra}


def commit(session: Session, *, sources: Sequence[Source], mappings: Mapping[str, Mapping[str, str]] | None = None,
           actor: str, today: date) -> DirectoryImport:  # fmt: skip
    """Import the files: new therapists, changed fields, vanished ones, review items, the report. Does not commit.

    Everything is written set-based (one statement per kind of write), so 50,000 entries take seconds.
    """
    with _no_cycle_collection():
        return _commit(session, sources=sources, mappings=mappings, actor=actor, today=today)


def _commit(session: Session, *, sources: Sequence[Source], mappings: Mapping[str, Mapping[str, str]] | None,
            actor: str, today: date) -> DirectoryImport:  # fmt: skip
    result = preview(session, sources=sources, mappings=mappings, today=today)
    plan = result.plan
    record = DirectoryImport(actor=actor, file_names=[s.name for s in sources], imported_on=today,
                             covered_postcodes=plan.covered_postcodes, counts=result.report["counts"],
                             report=result.report)  # fmt: skip
    session.add(record)
    session.flush()
    params = {"location_source": LOCATION_SOURCE, "today": today, "import_id": record.id}
    # the new therapists' ids are drawn first, so their practices are decided (and written) before they are
    # inserted, each with its practice: one row version each instead of an insert and an update (14 indexes)
    new_ids = list(session.scalars(_DRAW_IDS, {"n": len(plan.new)})) if plan.new else []
    places = placing.decide(session, created=list(zip(new_ids, plan.new, strict=True)))
    if plan.new:
        rows = [_values_row(e, ord=o, id=i, practice_id=places.targets.get(i))
                for o, (i, e) in enumerate(zip(new_ids, plan.new, strict=True))]  # fmt: skip
        session.execute(_rows_statement(_INSERT_NEW), {"rows": _rows_text(rows), **params})
    changed = plan.changed
    update_rows = [
        {
            **u.written(),
            "id": u.therapist_id,
            "external_id": u.entry.external_id,
            "content_hash": _content_hash(u.entry),
        }
        for u in changed
    ]
    _run(session, _UPDATE, update_rows, params)
    seen = [u.therapist_id for u in plan.unchanged]  # the changed ones were stamped by _UPDATE (one row version)
    session.execute(_SEEN, {"today": today, "ids": seen})
    listed = [(i, e) for i, e in zip(new_ids, plan.new, strict=True)] + [
        (u.therapist_id, u.entry) for u in plan.updates
    ]
    _run(
        session, _LISTINGS, [{"id": i, "hours": e.consultation_hours, "details": e.details} for i, e in listed], params
    )
    changes = [{"id": i, "kind": "new", "field": "*", "old": None, "new": e.values} for i, e in zip(new_ids, plan.new,
               strict=True)]  # fmt: skip
    for u in changed:
        changes += [{"id": u.therapist_id, "kind": "changed", "field": f, "old": c[0], "new": c[1]}
                    for f, c in u.changes.items()]  # fmt: skip
        if u.link_id:
            changes.append({"id": u.therapist_id, "kind": "changed", "field": "external_id", "old": None,
                            "new": u.entry.external_id})  # fmt: skip
    for u in plan.updates:
        changes += [{"id": u.therapist_id, "kind": "conflict", "field": f, "old": c[0], "new": c[1]}
                    for f, c in u.conflicts.items()]  # fmt: skip
    changes += _status_changes(session, plan, import_id=record.id, today=today)
    _run(session, _CHANGES, changes, params)
    _audit(session, changes, record=record, actor=actor)
    _reviews(session, plan, import_id=record.id)
    placing.record(session, places, actor=actor)
    moved = [u.therapist_id for u in changed if GROUPING_FIELDS & set(u.changes)]
    if moved:  # an address or e-mail changed: the staff path's regroup, for these few
        practices.regroup(session, therapist_ids=moved, actor=actor)
    session.expire_all()  # set-based writes bypassed the identity map
    return record


def _run(session: Session, sql: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> None:
    if rows:
        session.execute(_rows_statement(sql), {"rows": _rows_text(rows), **{k: v for k, v in params.items()
                                                                            if f":{k}" in sql}})  # fmt: skip


def _audit(session: Session, changes: list[dict[str, Any]], *, record: DirectoryImport, actor: str) -> None:
    """One audit row per therapist touched (field names, never values), shown in the therapist's history."""
    fields: dict[tuple[int, str], set[str]] = {}
    actions = _AUDIT_ACTIONS
    for change in changes:
        key = (change["id"], actions.get(change["kind"], ACTION))
        named = fields.get(key)
        if named is None:
            fields[key] = {change["field"]}
        else:
            named.add(change["field"])
    rows = [{"id": i, "action": a, "details": {"fields": sorted(f), "import_id": record.id}}
            for (i, a), f in fields.items()]  # fmt: skip
    _run(session, _AUDIT, rows, {"actor": actor, "reason": f"Verzeichnisimport #{record.id}"})


def _reviews(session: Session, plan: planning.Plan, *, import_id: int) -> None:
    pairs = select(DirectoryReview.therapist_id, DirectoryReview.external_id).where(DirectoryReview.status == "open")
    open_pairs = {tuple(row) for row in session.execute(pairs)}
    for review in plan.reviews:
        if (review.therapist_id, review.entry.external_id) in open_pairs:
            continue  # already waiting for staff: one item per pair
        entry = {**review.entry.values, "consultation_hours": review.entry.consultation_hours,
                 "details": review.entry.details}  # fmt: skip
        session.add(DirectoryReview(import_id=import_id, therapist_id=review.therapist_id,
                                    external_id=review.entry.external_id, differs=review.differs,
                                    entry=_json(entry), status="open"))  # fmt: skip
    session.flush()


# ---- history, reviews, staff confirmation ---------------------------------------------------------------------


def get_all(session: Session, *, limit: int = 50) -> list[DirectoryImport]:
    """The newest imports first, each with its report."""
    return list(session.scalars(select(DirectoryImport).order_by(DirectoryImport.id.desc()).limit(limit)))


def changes_of(session: Session, *, therapist_id: int) -> list[DirectoryChange]:
    """Every field an import changed or left in conflict for one therapist, oldest first."""
    query = select(DirectoryChange).where(DirectoryChange.therapist_id == therapist_id).order_by(DirectoryChange.id)
    return list(session.scalars(query))


def open_reviews(session: Session) -> list[DirectoryReview]:
    return list(session.scalars(select(DirectoryReview).where(DirectoryReview.status == "open")
                                .order_by(DirectoryReview.id)))  # fmt: skip


def confirm_vanished(session: Session, *, therapist_id: int, actor: str, today: date) -> Therapist:
    """Staff confirm a therapist who is no longer listed: inactive for matching now, back when seen again."""
    listing = session.get(DirectoryListing, therapist_id)
    if listing is None or listing.not_seen_since is None:
        raise IllegalTransition(Message("directory.error.not_vanished", "Therapist {therapist_id} is not marked 'not "
                                        "seen' by a directory import; only therapists missing from an import can be "
                                        "confirmed as gone", therapist_id=str(therapist_id)))  # fmt: skip
    reason = planning.INACTIVE_REASON.format(since=f"{listing.not_seen_since:%d.%m.%Y}", count=listing.missed_imports)
    therapist = therapists.deactivate(session, therapist_id=therapist_id, reason=f"{reason}, bestätigt",
                                      actor=actor, today=today)  # fmt: skip
    listing.deactivated_by_import = True
    session.flush()
    return therapist


def get_import(session: Session, import_id: int) -> DirectoryImport:
    record = session.get(DirectoryImport, import_id)
    if record is None:
        raise NotFound(Message("directory.error.import_missing", "Import {import_id} does not exist; pick one from the "
                               "import history", import_id=str(import_id)))  # fmt: skip
    return record


# ---- uncertain matches: staff decide -------------------------------------------------------------------------


def _open_review(session: Session, review_id: int) -> DirectoryReview:
    review = session.get(DirectoryReview, review_id, with_for_update=True)
    if review is None:
        raise NotFound(Message("directory.error.review_missing", "Review {review_id} does not exist; reload the "
                               "Import page", review_id=str(review_id)))  # fmt: skip
    if review.status != "open":
        raise IllegalTransition(Message("directory.error.review_decided", "Review {review_id} was already decided "
                                        "({status}); reload the Import page", review_id=str(review_id),
                                        status=review.status))  # fmt: skip
    return review


def _decide(review: DirectoryReview, *, status: str, actor: str) -> None:
    review.status, review.resolved_by, review.resolved_at = status, actor, func.now()


def _review_entry(review: DirectoryReview) -> Entry:
    """The directory entry a review holds (reviews queued before hours were kept there have none)."""
    stored = review.entry
    return Entry(file="", line=None, external_id=review.external_id,
                 values={name: stored.get(name) for name in IMPORTED_FIELDS},
                 consultation_hours=stored.get("consultation_hours") or {},
                 details=stored.get("details") or {})  # fmt: skip


def merge_review(session: Session, *, review_id: int, actor: str, today: date) -> Therapist:
    """Staff say the entry is the therapist we hold: link the directory id and update them as an import would.

    The entry's fields replace ours unless staff edited them (those are kept and listed as conflicts); every
    change is a row in the therapist's import history, with the review's import, and audited.
    """
    review = _open_review(session, review_id)
    therapist = session.get(Therapist, review.therapist_id, with_for_update=True)
    session.flush()
    [ours] = _held_rows(session.execute(_HELD_BY_ID, {"therapist_ids": [therapist.id]}))
    entry = _review_entry(review)
    changes, conflicts = planning.compare(ours, entry)
    linked = review.external_id if ours.external_id is None else None
    params = {"location_source": LOCATION_SOURCE, "today": today, "import_id": review.import_id}
    if changes or linked:
        update = planning.Update(ours.id, entry, changes, conflicts, bool(linked), False, dict(ours.values))
        row = {**update.written(), "id": ours.id, "external_id": linked, "content_hash": _content_hash(entry)}
        _run(session, _UPDATE, [row], params)
    session.execute(_SEEN, {"today": today, "ids": [ours.id]})
    _run(session, _LISTINGS, [{"id": ours.id, "hours": entry.consultation_hours, "details": entry.details}], params)
    rows = [{"id": ours.id, "kind": "changed", "field": f, "old": old, "new": new} for f, (old, new) in
            changes.items()]  # fmt: skip
    if linked:
        rows.append({"id": ours.id, "kind": "changed", "field": "external_id", "old": None, "new": linked})
    rows += [{"id": ours.id, "kind": "conflict", "field": f, "old": old, "new": new} for f, (old, new) in
             conflicts.items()]  # fmt: skip
    _run(session, _CHANGES, rows, params)
    _audit(session, rows, record=get_import(session, review.import_id), actor=actor)
    _decide(review, status="merged", actor=actor)
    audit.record(session, actor=actor, action="directory.review_merged", entity_type="therapist",
                 entity_id=ours.id, details={"review_id": review.id, "external_id": review.external_id,
                                             "differs": review.differs, "import_id": review.import_id,
                                             "fields": sorted(changes)},
                 reason=f"Verzeichnisimport #{review.import_id}")  # fmt: skip
    session.flush()
    session.expire(therapist)  # written set-based, as an import writes
    if GROUPING_FIELDS & set(changes):  # the address or e-mail changed: the practice may change
        practices.regroup(session, therapist_ids=[ours.id], actor=actor)
    return session.get(Therapist, ours.id)


def separate_review(session: Session, *, review_id: int, actor: str, today: date) -> Therapist:
    """Staff say the entry is another person: create it as a new therapist (with its hours); ours stays as it is."""
    review = _open_review(session, review_id)
    entry = _review_entry(review)
    rows = _rows_text([_values_row(entry, ord=0)])
    [new_id] = session.scalars(_rows_statement(_INSERT_NEW), {"rows": rows, "today": today,
                                                              "location_source": LOCATION_SOURCE})  # fmt: skip
    _run(session, _LISTINGS, [{"id": new_id, "hours": entry.consultation_hours, "details": entry.details}],
         {"import_id": review.import_id})  # fmt: skip
    session.add(DirectoryChange(import_id=review.import_id, therapist_id=new_id, kind="new", field="*",
                                old_value=None, new_value=_json(entry.values)))  # fmt: skip
    _decide(review, status="separate", actor=actor)
    audit.record(session, actor=actor, action="directory.review_separate", entity_type="therapist", entity_id=new_id,
                 details={"review_id": review.id, "external_id": review.external_id, "other": review.therapist_id,
                          "import_id": review.import_id}, reason=f"Verzeichnisimport #{review.import_id}")  # fmt: skip
    placing.place_new(session, created=[(new_id, entry)], actor=actor)
    session.flush()
    return session.get(Therapist, new_id)


def review_pairs(session: Session) -> list[dict[str, Any]]:
    """Every open review as the directory lists the person and as we hold them, for staff to compare."""
    reviews = open_reviews(session)
    held = select(Therapist).where(Therapist.id.in_([r.therapist_id for r in reviews]))
    ours = {therapist.id: therapist for therapist in session.scalars(held)}

    def side(values: Mapping[str, Any]) -> dict[str, Any]:
        name = " ".join(p for p in (values.get("title"), values.get("first_name"), values.get("last_name")) if p)
        return {"name": name, "street": values.get("street"), "postcode": values.get("postcode"),
                "city": values.get("city")}  # fmt: skip

    return [
        {"id": r.id, "differs": r.differs, "external_id": r.external_id, "therapist_id": r.therapist_id,
         "directory": side(r.entry), "ours": side({f: getattr(ours[r.therapist_id], f) for f in
                                                   ("title", "first_name", "last_name", "street", "postcode", "city")})}
        for r in reviews
    ]  # fmt: skip
