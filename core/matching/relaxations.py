"""Per-search relaxations of a hard filter (DESIGN 3.2), each stored with who, why and when, and audited.

``search.relaxations`` is a list of ``{"rule", "value", "by", "reason", "at"}``; relaxing a rule again
replaces its earlier entry. The matching filters read these codes:

rule                  value                                   example
distance              km, above the patient's limit, <= 200   25
travel_time           minutes, above the patient's limit      60
therapist_gender      "any"                                   any
procedure             "any"                                   any
language              "any"                                   any
availability_overlap  least weekly overlap in hours, >= 0     1
setting               "either"                                either

Example: ``relax(session, search_id=3, rule="distance", value=25, actor="anna@example.org",
reason="no therapist within 15 km", now=now)``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.audit import service as audit
from core.errors import NotFound, ValidationError
from core.events import service as events
from core.messages import Message, missing, status, term, words
from core.patients.models import Patient, Search, SearchStatus

MAX_DISTANCE_KM = 200  # farther than a day trip: no patient travels that far to weekly sessions
MAX_TRAVEL_MINUTES = 180
MAX_OVERLAP_HOURS = 168  # hours in a week
FIXED_VALUES = {"therapist_gender": "any", "procedure": "any", "language": "any", "setting": "either"}
RULES = ("distance", "travel_time", "therapist_gender", "procedure", "language", "availability_overlap", "setting")
EXAMPLES = {"distance": 25, "travel_time": 60, "availability_overlap": 1, **FIXED_VALUES}


def _rule(rule: str) -> Message:
    return term(f"relax.rule.{rule}", rule)


def _needs_number(rule: str, value: Any) -> Message:
    return Message(
        "relax.needs_number",
        "Relaxation '{rule}' needs a number, e.g. {example} (got {value})",
        rule=_rule(rule),
        example=EXAMPLES[rule],
        value=repr(value),
    )


def _number(rule: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(_needs_number(rule, value), field="value")
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        raise ValidationError(_needs_number(rule, value), field="value") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(
            Message(
                "relax.finite_number",
                "Relaxation '{rule}' needs a finite number, e.g. {example}",
                rule=_rule(rule),
                example=EXAMPLES[rule],
            ),
            field="value",
        )
    return number


def clean_value(rule: str, value: Any, *, patient: Patient) -> Any:
    """Return the value to store for ``rule`` or raise ValidationError naming rule, value and an example."""
    if rule not in RULES:
        raise ValidationError(
            Message(
                "relax.rule_unknown",
                "Relaxation rule '{rule}' is unknown; use one of {valid}, e.g. distance",
                rule=rule,
                valid=words([_rule(name) for name in RULES]),
            ),
            field="rule",
        )
    if rule in FIXED_VALUES:
        wanted = FIXED_VALUES[rule]
        if str(value).strip().lower() != wanted:
            raise ValidationError(
                Message(
                    "relax.fixed_value",
                    "Relaxation '{rule}' can only be '{wanted}' (got {value}), e.g. {rule}={wanted}",
                    rule=_rule(rule),
                    wanted=wanted,
                    value=repr(value),
                ),
                field="value",
            )
        return wanted
    number = _number(rule, value)
    if rule == "distance":
        current = patient.max_distance_km or 0
        if not current < number <= MAX_DISTANCE_KM:
            raise ValidationError(
                Message(
                    "relax.distance_range",
                    "Relaxation 'distance' must be more than the patient's {current:g} km and at most "
                    "{maximum} km, e.g. {example} (got {value})",
                    current=current,
                    maximum=MAX_DISTANCE_KM,
                    example=max(int(current) + 10, 25),
                    value=repr(value),
                ),
                field="value",
            )
        return round(number, 1)
    if rule == "travel_time":
        current = patient.max_travel_minutes or 0
        if not number.is_integer() or not current < number <= MAX_TRAVEL_MINUTES:
            raise ValidationError(
                Message(
                    "relax.travel_time_range",
                    "Relaxation 'travel_time' must be whole minutes, more than the patient's {current} and at most "
                    "{maximum}, e.g. {example} (got {value})",
                    current=current,
                    maximum=MAX_TRAVEL_MINUTES,
                    example=max(current + 15, 60),
                    value=repr(value),
                ),
                field="value",
            )
        return int(number)
    if not 0 <= number <= MAX_OVERLAP_HOURS:
        raise ValidationError(
            Message(
                "relax.overlap_range",
                "Relaxation 'availability_overlap' must be 0 to {maximum} hours a week, e.g. 1 (got {value})",
                maximum=MAX_OVERLAP_HOURS,
                value=repr(value),
            ),
            field="value",
        )
    return number


def _open_search(session: Session, search_id: int) -> Search:
    search = session.get(Search, search_id)
    if search is None:
        raise NotFound(missing("search", search_id))
    if search.status not in (SearchStatus.ACTIVE, SearchStatus.PAUSED):
        raise ValidationError(
            Message(
                "relax.search_closed",
                "Search {search} is {status}; only active or paused searches can be relaxed",
                search=str(search_id),
                status=status("search", search.status),
            ),
            field="search_id",
        )
    return search


def relax(
    session: Session,
    *,
    search_id: int,
    rule: str,
    value: Any,
    actor: str,
    reason: str,
    now: datetime,
    actor_id: int | None = None,
) -> Search:
    """Relax ``rule`` for one search (replacing an earlier relaxation of that rule); nothing is written on error."""
    search = _open_search(session, search_id)
    patient = session.get(Patient, search.patient_id)
    cleaned = clean_value(rule, value, patient=patient)
    why = (reason or "").strip()
    if not why:
        raise ValidationError(
            Message("relax.reason_required", "A reason is required for a relaxation, e.g. 'no therapist within 15 km'"),
            field="reason",
        )
    entry = {"rule": rule, "value": cleaned, "by": actor, "reason": why, "at": now.isoformat()}
    search.relaxations = [r for r in search.relaxations or [] if r.get("rule") != rule] + [entry]
    audit.record(session, actor=actor, actor_id=actor_id, action="search.relax", entity_type="search",
                 entity_id=search.id, reason=why, details={"rule": rule, "value": cleaned})  # fmt: skip
    events.emit(session, "search.relaxed", aggregate_type="search", aggregate_id=search.id,
                payload={"rule": rule, "value": cleaned})  # fmt: skip
    return search


def remove_relaxation(
    session: Session,
    *,
    search_id: int,
    rule: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
    actor_id: int | None = None,
) -> Search:
    """Remove the relaxation of ``rule`` from a search, so the patient's own preference applies again."""
    search = _open_search(session, search_id)
    if not any(r.get("rule") == rule for r in search.relaxations or []):
        present = [_rule(r.get("rule", "?")) for r in search.relaxations or []]
        raise ValidationError(
            Message(
                "relax.not_relaxed",
                "Search {search} has no relaxation '{rule}' (relaxed: {present})",
                search=str(search_id),
                rule=_rule(rule),
                present=words(present) if present else term("list.none", "none"),
            ),
            field="rule",
        )
    search.relaxations = [r for r in search.relaxations if r.get("rule") != rule]
    audit.record(session, actor=actor, actor_id=actor_id, action="search.relaxation_removed", entity_type="search",
                 entity_id=search.id, reason=(reason or "").strip() or None,
                 details={"rule": rule, "at": now.isoformat()})  # fmt: skip
    events.emit(session, "search.relaxation_removed", aggregate_type="search", aggregate_id=search.id,
                payload={"rule": rule})  # fmt: skip
    return search
