"""Calls to patients and follow-up tasks of the demo: a few of each outcome, tasks overdue, due today, later, done.

Staff call new patients about missing details and searching ones about their status; what a call leaves
open becomes a task (``core.patients.calls`` rules: a call back on the next working day, a wrong number
flags the phone). Some tasks stand alone. Deterministic for a seed, like the rest of the demo.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from core.demo.journal import Journal
from core.demo.patients import PatientDraft
from core.demo.refs import Ref
from core.patients.tasks import next_working_day

Row = dict[str, Any]
CALLED = 14  # patients called in the demo: enough for every outcome, few enough to read on Heute
NOTES = {
    "reached": ("Suche läuft weiter, keine Änderungen", "Versichertenkarte kommt per Post", None),
    "not_reached": ("Mailbox, Nachricht hinterlassen", "Besetzt", None),
    "wrong_number": ("Anschluss gehört jemand anderem",),
    "callback_requested": ("Bittet um Rückruf am Nachmittag", "Gerade bei der Arbeit, später anrufen"),
}
# (purpose, outcome) in turn, so that every purpose and outcome appears even in a small demo
SCRIPT = (
    ("missing_data", "not_reached"), ("status", "reached"), ("status", "callback_requested"),
    ("missing_data", "wrong_number"), ("other", "reached"), ("status", "not_reached"),
    ("missing_data", "reached"), ("status", "callback_requested"),
)  # fmt: skip
FOLLOW_UP = {"not_reached": "call_back", "callback_requested": "call_back", "wrong_number": "check_phone"}
ALONE = ("request_missing_data", "check_status", "other")  # kinds of tasks staff create without a call


def patient_call_rows(
    patients: list[PatientDraft], *, rng: random.Random, today: date, now: datetime, journal: Journal
) -> tuple[list[Row], list[Row]]:
    """Return (patient_call rows, followup_task rows); flags the phone of patients a call found wrong."""
    for patient in patients:
        patient.row.setdefault("wrong_phone", None)  # every row of one multi-row INSERT has the same columns
    called = [p for p in patients if p.row["phone"] and p.row["status"] in ("new", "searching")][:CALLED]
    calls: list[Row] = []
    tasks: list[Row] = []
    for index, patient in enumerate(called):
        purpose, outcome = SCRIPT[index % len(SCRIPT)]
        if patient.row["status"] == "new" and purpose == "status":
            purpose = "missing_data"  # a new patient has no search to ask about yet
        days_ago = rng.choice((0, 1, 2, 3, 6, 8)) if index else 0
        called_at = _working_moment(now, days_ago, rng)
        if called_at < patient.registered_at:
            continue
        key = len(calls) + 1
        calls.append({"id": key, "patient_id": Ref("patient", patient.row["id"]), "purpose": purpose,
                      "outcome": outcome, "note": rng.choice(NOTES[outcome]), "staff_user_id": None,
                      "called_at": called_at, "created_at": called_at})  # fmt: skip
        said = {"call_id": Ref("patient_call", key), "purpose": purpose, "outcome": outcome}
        journal.audit(called_at, "patient_call.recorded", entity=Ref("patient", patient.row["id"]), details=said)
        journal.event(called_at, "patient_call.recorded", aggregate=Ref("patient", patient.row["id"]), payload=said)
        if outcome == "wrong_number":
            patient.row["wrong_phone"] = patient.row["phone"]
        if outcome in FOLLOW_UP:
            due = next_working_day(called_at.date())
            # some call backs were made on their day, others still wait (overdue)
            done = datetime.combine(due, time(11, 0), now.tzinfo) if due < today and rng.random() < 0.5 else None
            tasks.append(_task(len(tasks) + 1, patient, FOLLOW_UP[outcome], due, called_at, done,
                               call=Ref("patient_call", key), journal=journal))  # fmt: skip
    for index, patient in enumerate(called[:6]):
        due = today + timedelta(days=(-2, 0, 0, 3, 7, 1)[index])
        created = min(now, datetime.combine(min(due, today) - timedelta(days=1), time(9, 0), now.tzinfo))
        created = max(created, patient.registered_at)
        note = "Fehlende Angaben per Mail nachfragen" if index == 0 else None
        tasks.append(_task(len(tasks) + 1, patient, ALONE[index % len(ALONE)], due, created, None, call=None,
                           journal=journal, note=note))  # fmt: skip
    return calls, tasks


def _working_moment(now: datetime, days_ago: int, rng: random.Random) -> datetime:
    """A moment during office hours ``days_ago`` days before ``now`` (today: before now), on a weekday."""
    day = now.date() - timedelta(days=days_ago)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    if day == now.date():
        return now - timedelta(minutes=rng.randint(20, 90))
    return datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))), now.tzinfo)


def _task(key: int, patient: PatientDraft, kind: str, due: date, created: datetime, done_at: datetime | None, *,
          call: Ref | None, journal: Journal, note: str | None = None) -> Row:  # fmt: skip
    aggregate = Ref("patient", patient.row["id"])
    task = Ref("followup_task", key)
    journal.audit(created, "followup_task.created", entity=aggregate,
                  details={"task_id": task, "kind": kind, "due_on": due.isoformat()})  # fmt: skip
    journal.event(created, "followup_task.created", aggregate=aggregate,
                  payload={"task_id": task, "kind": kind, "due_on": due.isoformat(), "call_id": call})  # fmt: skip
    if done_at is not None:
        journal.audit(done_at, "followup_task.completed", entity=aggregate, details={"task_id": task, "kind": kind})
        journal.event(done_at, "followup_task.completed", aggregate=aggregate, payload={"task_id": task, "kind": kind})
    return {"id": key, "patient_id": aggregate, "search_id": None, "call_id": call, "kind": kind, "note": note,
            "due_on": due, "assignee_id": None, "created_by_id": None, "done_at": done_at, "done_by_id": None,
            "created_at": created, "updated_at": done_at or created, "version": 1}  # fmt: skip
