"""Store a matching run's result as inquiries in state 'proposed', replacing the unreviewed proposals.

Idempotent: a re-run first deletes every inquiry still in state 'proposed' (with its items) and then stores
the new ones, so only what staff have not reviewed yet is replaced. Approved, sent or answered inquiries are
never touched. Example:

    stored = store_proposals(session, result=result, run_id="run-20261126-0700", actor="job:run_matching", now=now)
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.db.copy import copy_csv
from core.errors import ValidationError
from core.events import service as events
from core.matching import references
from core.matching.limits import local_today
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.matching.proposals import Factor, MatchingResult
from core.messages import Message
from core.patients.models import Patient, Search


def check_result(result: MatchingResult, *, max_size: int) -> None:
    """Raise ValidationError if a proposed inquiry is empty, too large, or names a search twice."""
    for proposed in result.inquiries:
        size = len(proposed.items)
        if not 1 <= size <= max_size:
            raise ValidationError(
                Message(
                    "proposal.size",
                    "A proposed inquiry to therapist {therapist} has {count} patients; "
                    "it must have 1 to {maximum} (MATCH_INQUIRY_MAX_SIZE)",
                    therapist=str(proposed.therapist_id),
                    count=size,
                    maximum=max_size,
                ),
                field="items",
            )
        searches = [item.search_id for item in proposed.items]
        if len(set(searches)) != size:
            raise ValidationError(
                Message(
                    "proposal.search_twice",
                    "A proposed inquiry to therapist {therapist} names a search twice ({searches})",
                    therapist=str(proposed.therapist_id),
                    searches=str(sorted(searches)),
                ),
                field="items",
            )


def delete_unreviewed(session: Session, *, region: str | None = None) -> int:
    """Delete every inquiry still in state 'proposed' (with its items); return how many.

    With ``region`` (a 2-digit PLZ prefix) only proposals with a patient from that region are deleted.
    One statement, set-based: nationwide the ids of ~9,000 inquiries no longer travel to Python and back as
    two 9,000-parameter IN lists (issue 13).
    """
    doomed = delete(Inquiry).where(Inquiry.status == InquiryStatus.PROPOSED)
    if region:
        in_region = (
            select(InquiryItem.id)
            .join(Search, Search.id == InquiryItem.search_id)
            .join(Patient, Patient.id == Search.patient_id)
            .where(InquiryItem.inquiry_id == Inquiry.id, Patient.postcode.startswith(region))
        )
        doomed = doomed.where(exists(in_region))
    gone = doomed.returning(Inquiry.id).cte("gone")
    items = delete(InquiryItem).where(InquiryItem.inquiry_id.in_(select(gone.c.id))).cte("gone_items")
    ids = set(session.scalars(select(gone.c.id).add_cte(items)))
    if ids:  # what the ORM's own bulk delete did: objects of this session that are gone leave it
        for instance in list(session.identity_map.values()):
            if (type(instance) is Inquiry and instance.id in ids) or (
                type(instance) is InquiryItem and instance.inquiry_id in ids
            ):
                session.expunge(instance)
    return len(ids)


def store_proposals(
    session: Session,
    *,
    result: MatchingResult,
    run_id: str,
    actor: str,
    now: datetime,
    region: str | None = None,
    settings: Settings | None = None,
    actor_id: int | None = None,
) -> list[Inquiry]:
    """Replace the unreviewed proposals by ``result``'s inquiries (state 'proposed'); return the new ones."""
    ids = store_proposal_ids(session, result=result, run_id=run_id, actor=actor, now=now, region=region,
                             settings=settings, actor_id=actor_id)  # fmt: skip
    if not ids:
        return []
    by_id = {inquiry.id: inquiry for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)))}
    return [by_id[i] for i in ids]


def factors_json(factors: Sequence[Factor], fragments: dict[tuple[str, int], tuple[object, str, str]]) -> str:
    """Return ``json.dumps([factor.as_dict() for factor in factors])``, each distinct sentence encoded once.

    The pipeline shares one sentence object between the items that say the same (score.explain_rows), so
    ``fragments`` (keyed by code and the sentence's id; it holds the sentence, so the id stays its own) keeps the JSON
    before and after the weight: nationwide ~80,000 factors have a few thousand sentences (issue 13).
    """
    parts = []
    for factor in factors:
        key = (factor.code, id(factor.sentence))
        known = fragments.get(key)
        if known is None or known[0] is not factor.sentence:
            text = json.dumps({**factor.as_dict(), "weight": 0.0})  # the weight's place, filled in below
            head, tail = text.split('"weight": 0.0', 1)  # inside a JSON string every quote is escaped
            known = fragments[key] = (factor.sentence, head + '"weight": ', tail)
        weight = round(factor.weight, 4)
        parts.append(known[1] + (repr(weight) if math.isfinite(weight) else json.dumps(weight)) + known[2])
    return "[" + ", ".join(parts) + "]"


INQUIRY_COLUMNS = (
    *("id", "reference", "therapist_id", "practice_id", "status", "matching_run", "version"),
    *("created_at", "updated_at"),
)
ITEM_COLUMNS = (
    *("inquiry_id", "search_id", "outcome", "score", "factors", "distance_km", "is_exploration"),
    *("selection_probability", "features", "model_name", "model_version", "is_conflict", "created_at"),
)


def _quoted(text: str) -> str:
    """Return ``text`` as one quoted CSV field (as core.db.copy.copy_rows writes it)."""
    return '"' + text.replace('"', '""') + '"'


def inquiry_lines(result: MatchingResult, *, ids: Sequence[int], codes: Sequence[str], run_id: str,
                  now: datetime) -> io.StringIO:  # fmt: skip
    """Return the COPY lines (CSV) of ``result``'s inquiries in INQUIRY_COLUMNS order."""
    stamp = _quoted(now.isoformat())
    tail = f'{_quoted(InquiryStatus.PROPOSED.value)},{_quoted(run_id)},"1",{stamp},{stamp}\n'
    lines = io.StringIO()
    for inquiry_id, code, proposed in zip(ids, codes, result.inquiries, strict=True):
        practice = "" if proposed.practice_id is None else f'"{proposed.practice_id}"'
        lines.write(f'"{inquiry_id}",{_quoted(code)},"{proposed.therapist_id}",{practice},{tail}')
    return lines


def item_lines(result: MatchingResult, *, ids: Sequence[int], now: datetime) -> io.StringIO:
    """Return the COPY lines (CSV) of ``result``'s items in ITEM_COLUMNS order, built from fragments made once.

    The same fields as copy_rows would write for each item's values (core.db.copy): every value quoted, NULL
    empty; nationwide ~27,000 lines of ~1,000 characters, so the constant parts are formatted only once.
    """
    model_name, model_version = result.stats.get("model"), result.stats.get("model_version")
    model = (
        ("" if model_name is None else _quoted(str(model_name)))
        + ","
        + ("" if model_version is None else _quoted(str(model_version)))
    )
    pending = _quoted(ItemOutcome.PENDING.value)
    tail = f'{model},"f",{_quoted(now.isoformat())}\n'
    fragments: dict[tuple[str, int], tuple[object, str, str]] = {}
    lines = io.StringIO()
    write, dumps = lines.write, json.dumps
    for inquiry_id, proposed in zip(ids, result.inquiries, strict=True):
        head = f'"{inquiry_id}",'
        for item in proposed.items:
            distance = "" if item.distance_km is None else f'"{round(float(item.distance_km), 2)}"'
            probability = "" if item.selection_probability is None else f'"{item.selection_probability}"'
            # training data fixed at proposal time (issue 12): what the score saw, and which model scored
            features = "" if item.features is None else _quoted(dumps(item.features))
            score = "" if item.score is None else f'"{item.score}"'
            explored = '"t"' if item.is_exploration else '"f"'
            write(
                f'{head}"{item.search_id}",{pending},{score},{_quoted(factors_json(item.factors, fragments))},'
                f"{distance},{explored},{probability},{features},{tail}"
            )
    return lines


def store_proposal_ids(
    session: Session,
    *,
    result: MatchingResult,
    run_id: str,
    actor: str,
    now: datetime,
    region: str | None = None,
    settings: Settings | None = None,
    actor_id: int | None = None,
) -> list[int]:
    """Like ``store_proposals``, but return only the new inquiries' ids (the nightly run loads no objects).

    The rows go in with COPY (core.db.copy): nationwide that is ~9,000 inquiries and ~27,000 items with
    their factors and features as JSON, where batched INSERTs took most of the run (issue 13); the lines are
    built here from fragments made once (inquiry_lines, item_lines). The ids come
    from the table's own sequence first, so items can name their inquiry without a round trip per row.
    """
    settings = settings or get_settings()
    check_result(result, max_size=settings.match_inquiry_max_size)
    references.lock(session)  # two runs at once would each keep their own proposals
    replaced = delete_unreviewed(session, region=region)
    codes = references.allocate(session, count=len(result.inquiries), year=local_today(now, settings).year)
    ids: list[int] = []
    if result.inquiries:
        session.flush()  # pending ORM writes go first, as they would before an INSERT
        ids = sorted(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('inquiry', 'id')) FROM generate_series(1, :n)"),
                {"n": len(result.inquiries)},
            )
        )
        copy_csv(session, "inquiry", INQUIRY_COLUMNS, inquiry_lines(result, ids=ids, codes=codes, run_id=run_id,
                                                                     now=now))  # fmt: skip
        copy_csv(session, "inquiry_item", ITEM_COLUMNS, item_lines(result, ids=ids, now=now))
    counts = {
        "replaced": replaced,
        "inquiries": len(ids),
        "items": sum(len(p.items) for p in result.inquiries),
        "exploration_items": sum(i.is_exploration for p in result.inquiries for i in p.items),
    }
    details = {**counts, "region": region} if region else counts
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="matching.proposals_stored",
        entity_type="matching_run",
        entity_id=run_id,
        details=details,
    )
    events.emit(session, "matching.proposals_stored", aggregate_type="matching_run", aggregate_id=run_id,
                payload=details)  # fmt: skip
    return ids
