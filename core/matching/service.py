"""Matching use cases in one place: run and store proposals, review them, record answers, resolve conflicts.

Every function takes the session first and keyword-only arguments, audits (and emits a domain event for)
each change in the caller's transaction, and does not commit. The work lives in small modules:

    store        store_proposals, delete_unreviewed               (idempotent re-runs)
    review       approve, approve_many, discard, mark_queued, mark_sent
    edits        add_search, remove_item, swap_therapist
    answers      record_answer                                    (first acceptance wins, cooldown, no-show)
    conflicts    list_conflicts, resolve_conflict, suggest_waiting_patients
    relaxations  relax, remove_relaxation
    queries      list_proposals, inquiry_detail, open_inquiries_for_answers, match_history
    transitions  the inquiry and item state tables (pure)
    limits       the contact limits re-checked at approval (pure rules + loader)

Example:
    with session_scope() as session:
        counts = scheduled_run(session, now=datetime.now(UTC), dry_run=False)
        approve(session, inquiry_id=4, actor="anna@example.org", now=datetime.now(UTC))
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import core.db.models  # noqa: F401 - every table known to the ORM (an inquiry refers to staff_user)
from core.config import Settings, get_settings
from core.errors import ValidationError
from core.matching import references
from core.matching.answers import AnswerResult, record_answer
from core.matching.conflicts import list_conflicts, resolve_conflict, suggest_waiting_patients
from core.matching.edits import add_search, remove_item, swap_therapist
from core.matching.limits import ContactLimitExceeded, Violation
from core.matching.queries import inquiry_detail, list_proposals, match_history, open_inquiries_for_answers
from core.matching.relaxations import RULES as RELAXATION_RULES
from core.matching.relaxations import relax, remove_relaxation
from core.matching.review import ApprovalReport, approve, approve_many, discard, mark_queued, mark_sent
from core.matching.store import delete_unreviewed, store_proposal_ids, store_proposals
from core.messages import Message

__all__ = [
    "RELAXATION_RULES",
    "AnswerResult",
    "ApprovalReport",
    "ContactLimitExceeded",
    "Violation",
    "add_search",
    "approve",
    "approve_many",
    "clean_region",
    "delete_unreviewed",
    "discard",
    "inquiry_detail",
    "list_conflicts",
    "list_proposals",
    "mark_queued",
    "mark_sent",
    "match_history",
    "open_inquiries_for_answers",
    "record_answer",
    "relax",
    "remove_item",
    "remove_relaxation",
    "resolve_conflict",
    "scheduled_run",
    "store_proposals",
    "suggest_waiting_patients",
    "swap_therapist",
]

JOB_ACTOR = "job:run_matching"
REGION = re.compile(r"\d{2}")


def clean_region(region: str | None) -> str | None:
    """Return a 2-digit PLZ prefix (or None for all of Germany); raise ValidationError otherwise."""
    if region is None or str(region).strip() == "":
        return None
    value = str(region).strip()
    if not REGION.fullmatch(value):
        raise ValidationError(
            Message(
                "filter.region",
                "Region '{region}' must be two digits, the start of a PLZ, e.g. --region 10 for Berlin",
                region=value,
            ),
            field="region",
        )
    return value


def _plain(value: Any) -> Any:
    """Turn numpy scalars and nested containers into JSON-friendly Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value


def step_lines(stats: dict[str, Any]) -> list[str]:
    """Return one progress line per pipeline step (loading, candidates, filters, scoring, assignment)."""
    seconds = stats.get("timings", {})

    def took(*steps: str) -> str:
        return f"({sum(seconds.get(step, 0.0) for step in steps):.2f} s)"

    return [
        f"loaded {stats.get('searches', 0):,} searches and {stats.get('therapists', 0):,} therapists "
        f"{took('snapshot')}",
        f"candidates: {stats.get('candidates', 0):,} pairs within reach {took('candidates')}",
        f"filters: {stats.get('pairs_passing', 0):,} pairs pass every rule {took('filters')}",
        f"scoring: {stats.get('pairs_passing', 0):,} pairs scored with {stats.get('model', '?')} {took('scores')}",
        f"assignment: {stats.get('items', 0):,} patients in {stats.get('inquiries', 0):,} inquiries, "
        f"{stats.get('exploration_items', 0):,} for exploration {took('exploration', 'greedy', 'exact')}",
    ]


def scheduled_run(
    session: Session,
    *,
    now: datetime,
    dry_run: bool = False,
    region: str | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
    actor: str = JOB_ACTOR,
) -> dict[str, Any]:
    """Job ``run_matching``: propose inquiries for every active search and store them as proposals.

    The unreviewed proposals are removed first (so the pipeline does not count them as open inquiries)
    and replaced by the new ones. ``dry_run`` computes everything and writes nothing. Returns the counts
    of the run (searches, therapists, candidate pairs, ..., inquiries, items, seconds).
    """
    from core.matching import pipeline  # the heavy pipeline loads only when a run starts

    settings = settings or get_settings()
    region = clean_region(region)
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    run_id = f"run-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    savepoint = session.begin_nested()
    references.lock(session)
    replaced = delete_unreviewed(session, region=region)
    replaced_s = time.perf_counter() - started
    say(f"loading searches and therapists{f' in region {region}' if region else ''} ...")
    result = pipeline.propose(session, now=now, settings=settings, region=region, seed=seed)
    for line in step_lines(result.stats):
        say(line)
    # every step of the run, the replaced proposals' deletion and the store included (issue 13)
    timings = {"replace": replaced_s, **result.stats["timings"]}
    timings.pop("total", None)
    if dry_run:
        savepoint.rollback()
        stored_inquiries = len(result.inquiries)
    else:
        storing = time.perf_counter()
        stored = store_proposal_ids(session, result=result, run_id=run_id, actor=actor, now=now, region=region,
                                 settings=settings)  # fmt: skip
        savepoint.commit()
        stored_inquiries = len(stored)
        timings["store"] = time.perf_counter() - storing
    items = [item for proposed in result.inquiries for item in proposed.items]
    counts = {
        **_plain(dict(result.stats)),
        "run_id": run_id,
        "dry_run": dry_run,
        "region": region,
        "replaced": replaced,
        "inquiries": stored_inquiries,
        "items": len(items),
        "exploration_items": sum(item.is_exploration for item in items),
        "seconds": round(time.perf_counter() - started, 3),
        "timings": {step: round(seconds, 4) for step, seconds in timings.items()},
    }
    say(f"{'would store' if dry_run else 'stored'} {counts['inquiries']} inquiries with {counts['items']} patients")
    return counts
