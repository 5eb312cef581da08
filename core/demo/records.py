"""Turn the simulated history into rows: searches, consents, inquiries, items, placements; final patient states."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from core.demo.history import MAX_PARALLEL, History
from core.demo.ladder import calls_at, status_at
from core.demo.refs import Ref
from core.demo.state import InquiryState, SearchState

Row = dict[str, Any]

CONSENT_TEXT_VERSION = "2025-10"
CONSENT_WITHDRAWN_SHARE = 0.5  # half of the people who stop searching also withdraw profile sharing


def search_rows(history: History) -> list[Row]:
    """Return one row per search as it stands at ``now``."""
    rows = []
    for search in history.searches:
        paused = search.status == "active" and search.paused
        changed = [search.started_at, search.ended_at, search.pause[0] if paused and search.pause else None]
        rows.append(
            {
                "id": search.key,
                "patient_id": Ref("patient", search.patient.row["id"]),
                "status": "paused" if paused else search.status,
                "started_on": search.started_at.date(),
                "paused_until": search.pause[1].date() if paused and search.pause else None,
                "ended_on": search.ended_at.date() if search.ended_at else None,
                "cancel_reason": search.cancel_reason,
                "max_parallel_inquiries": MAX_PARALLEL,
                "relaxations": search.relaxations,
                "excluded_therapist_ids": [],
                "created_at": search.started_at,
                "updated_at": max(moment for moment in changed if moment is not None),
            }
        )
    return rows


def consent_rows(history: History, rng: random.Random) -> list[Row]:
    """Return health-data consent for every patient and profile-sharing consent for every searching one."""
    searches = {search.patient.row["id"]: search for search in history.searches}
    rows: list[Row] = []
    for patient in history.patients:
        search = searches.get(patient.row["id"])
        kinds = ["health_data"] + (["share_profile"] if search else [])
        for kind in kinds:
            withdrawn = None
            if kind == "share_profile" and search and search.status == "cancelled":
                withdrawn = search.ended_at if rng.random() < CONSENT_WITHDRAWN_SHARE else None
            granted = patient.registered_at + timedelta(minutes=2 if kind == "health_data" else 5)
            rows.append(
                {
                    "id": len(rows) + 1,
                    "patient_id": Ref("patient", patient.row["id"]),
                    "kind": kind,
                    "text_version": CONSENT_TEXT_VERSION,
                    "granted_at": granted,
                    "withdrawn_at": withdrawn,
                    "recorded_by_id": None,
                    "created_at": granted,
                }
            )
    return rows


def update_patients(history: History) -> None:
    """Set each patient's status from their search and placement."""
    searches = {search.patient.row["id"]: search for search in history.searches}
    for patient in history.patients:
        search = searches.get(patient.row["id"])
        status, changed = _patient_status(search) if search else ("new", patient.registered_at)
        patient.row["status"] = status
        patient.row["updated_at"] = max(changed, patient.registered_at)


def _patient_status(search: SearchState) -> tuple[str, datetime]:
    if search.status == "active":
        return "searching", search.started_at
    if search.status == "cancelled":
        return "search_cancelled", search.ended_at or search.started_at
    placement = search.placement
    assert placement is not None  # noqa: S101 - narrows the type for the checker; the demo generator guarantees it
    if placement.item.outcome == "no_show" or placement.therapy_end == "aborted":
        return "therapy_aborted", placement.confirmed_at or placement.placed_at
    if placement.therapy_end == "finished":
        return "therapy_finished", placement.confirmed_at or placement.placed_at
    return "in_therapy", placement.confirmed_at or placement.placed_at


def inquiry_rows(history: History) -> list[Row]:
    """Return one row per inquiry, its status read from its follow-up plan at ``now``."""
    return [_inquiry_row(inquiry, history.now) for inquiry in history.inquiries]


def _inquiry_row(inquiry: InquiryState, now: datetime) -> Row:
    plan = inquiry.plan
    row: Row = {
        "id": inquiry.key,
        "reference": inquiry.reference,
        "therapist_id": Ref("therapist", inquiry.therapist["id"]),
        "practice_id": Ref("practice", inquiry.practice.row["id"]),
        "status": inquiry.status if plan is None else status_at(plan, now),
        "matching_run": f"matching-{inquiry.created_at:%Y%m%d}",
        "approved_by_id": None,
        "approved_at": inquiry.approved_at,
        "sent_at": _past(plan.sent_at, now) if plan else None,
        "reminded_at": _past(plan.reminder_at, now) if plan else None,
        "call_scheduled_at": _past(plan.call_scheduled_at, now) if plan else None,
        "answered_at": _past(plan.answered_at, now) if plan else None,
        "closed_at": _past(plan.expires_at, now) if plan else inquiry.closed_at,
        "override_reason": inquiry.override_reason,
        "created_at": inquiry.created_at,
    }
    stamps = [
        row[k] for k in ("approved_at", "sent_at", "reminded_at", "call_scheduled_at", "answered_at", "closed_at")
    ]
    row["updated_at"] = max([inquiry.created_at, *(s for s in stamps if s is not None)])
    return row


def item_rows(history: History) -> list[Row]:
    """Return one row per inquiry item."""
    return [
        {
            "id": item.key,
            "inquiry_id": Ref("inquiry", item.inquiry.key),
            "search_id": Ref("search", item.search.key),
            "outcome": item.outcome,
            "score": item.candidate.prior,
            "factors": demo_factors(item.inquiry.therapist["accepting_patients"], item.candidate.distance_km),
            "is_exploration": item.is_exploration,
            "selection_probability": item.selection_probability,
            "distance_km": item.candidate.distance_km,
            "answered_at": item.answered_at,
            "answer_source": item.answer_source,
            "answer_message": item.answer_message,
            "proposed_first_session": item.proposed_first_session,
            "is_conflict": item.is_conflict,
            "conflict_resolved_at": item.conflict_resolved_at,
            "created_at": item.inquiry.created_at,
        }
        for item in history.items
    ]


def placement_rows(history: History) -> list[Row]:
    """Return one row per placement (one per successful search)."""
    return [
        {
            "id": placement.key,
            "search_id": Ref("search", placement.item.search.key),
            "therapist_id": Ref("therapist", placement.item.candidate.therapist),
            "inquiry_item_id": Ref("inquiry_item", placement.item.key),
            "placed_on": placement.placed_at.date(),
            "first_session_on": placement.first_session_on,
            "first_session_confirmed_at": placement.confirmed_at,
            "created_at": placement.placed_at,
        }
        for placement in history.placements
    ]


def update_practices(history: History) -> None:
    """Record each practice's last contact and cooldown as the history left them."""
    for inquiry in history.inquiries:
        plan, practice = inquiry.plan, inquiry.practice
        if plan is None:
            continue
        calls = [call.at for call in calls_at(plan, history.now) if call.status in {"done", "failed"}]
        past = [moment for moment in (plan.sent_at, plan.reminder_at, *calls) if moment and moment <= history.now]
        if past and (practice.row["last_contacted_at"] is None or max(past) > practice.row["last_contacted_at"]):
            practice.row["last_contacted_at"] = max(past)
            practice.row["updated_at"] = max(practice.row["updated_at"], max(past))
    for practice in history.practices.values():
        if practice.cooldown_until is not None:
            practice.row["cooldown_until"] = practice.cooldown_until.date()


def _past(moment: datetime | None, now: datetime) -> datetime | None:
    return moment if moment is not None and moment <= now else None


ACCEPTING_SENTENCES = {  # message code (translated by the UI), English sentence
    True: ("factor.accepting_yes_undated", "Reported taking new patients"),
    False: ("factor.accepting_no_undated", "Reported taking no new patients"),
    None: ("factor.accepting_unknown", "Not known whether taking patients"),
}


def demo_factors(accepting: bool | None, distance_km: float) -> list[dict[str, Any]]:
    """Return the two factors of the demo's response model in the shape of core.matching.proposals.Factor."""
    message, sentence = ACCEPTING_SENTENCES[accepting]
    km = round(distance_km, 1)
    return [
        {"code": "accepting", "sentence": sentence, "weight": 0.0, "message": message, "params": {}},
        {"code": "distance", "sentence": f"{km:.1f} km away", "weight": 0.0, "message": "factor.distance",
         "params": {"km": km}},
    ]  # fmt: skip
