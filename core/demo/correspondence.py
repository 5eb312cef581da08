"""E-mails and phone calls of the demo history, as they stand at ``now``."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from core.demo import response
from core.demo.history import History
from core.demo.ladder import calls_at
from core.demo.mail import email_row, inquiry_text, number_emails, patient_line, placement_text, reminder_text
from core.demo.refs import Ref
from core.demo.state import InquiryState

Row = dict[str, Any]

RETRY_ERROR = "421 4.4.2 Connection timed out"
TEMPORARY_ERROR = "421 4.7.0 Temporary system problem, try again later"
BOUNCE_ERROR = "550 5.1.1 Recipient address rejected: mailbox unavailable"
RETRY_IN = timedelta(minutes=10)
FAILED_CALL_NOTES = ("Anrufbeantworter, Nachricht hinterlassen", "Besetzt", "Niemand erreicht")
CALL_NOTES = {"done": "Rückmeldung telefonisch erhalten", "cancelled": "Antwort kam vorher schriftlich, Anruf entfällt"}
CALL_OUTCOMES = {"done": "answered", "failed": "not_reached", "cancelled": "answered_otherwise"}


def email_rows(history: History, rng: random.Random) -> list[Row]:
    """Return every e-mail: inquiries and reminders to practices, placement news to patients."""
    rows: list[Row] = []
    for inquiry in history.inquiries:
        if inquiry.practice.phone_only or (inquiry.plan is None and inquiry.mail_status is None):
            continue  # phone-only practices get calls; proposals and discarded ones get no mail
        rows.extend(_inquiry_mails(inquiry, history, rng))
    for placement in history.placements:
        patient = placement.item.search.patient.row
        if not patient["email"]:
            continue
        therapist = history.therapists[placement.item.candidate.therapist]
        subject, body = placement_text(patient, therapist, placement.first_session_on)
        created = placement.placed_at + timedelta(minutes=30)
        sent = created + timedelta(minutes=2)
        rows.append(
            email_row(
                template="placement_write",
                to=patient["email"],
                subject=subject,
                body=body,
                created_at=created,
                status="sent" if sent <= history.now else "queued",
                sent_at=sent if sent <= history.now else None,
                language=patient["contact_language"],
                inquiry=Ref("inquiry", placement.item.inquiry.key),
                patient=Ref("patient", patient["id"]),
                therapist=Ref("therapist", therapist["id"]),
            )
        )
    _show_rare_statuses(rows, history)
    return number_emails(rows)


def _inquiry_mails(inquiry: InquiryState, history: History, rng: random.Random) -> list[Row]:
    therapist = inquiry.therapist
    to = therapist["email"] or inquiry.practice.row["email_normalized"]
    lines = [patient_line(item.search.patient.row, item.search.patient.age) for item in inquiry.items]
    subject, body = inquiry_text(inquiry.reference, therapist, lines)
    refs = {"inquiry": Ref("inquiry", inquiry.key), "therapist": Ref("therapist", therapist["id"])}
    plan = inquiry.plan
    if plan is None:  # approved or queued this morning: the first mail is on its way
        assert inquiry.approved_at is not None  # noqa: S101 - narrows the type for the checker; the demo generator guarantees it
        assert inquiry.mail_status is not None  # noqa: S101 - narrows the type for the checker; the demo generator guarantees it
        status = inquiry.mail_status
        attempts = {"draft": 0, "queued": 0, "sending": 1, "failed": 1}[status]
        next_attempt = {"queued": inquiry.approved_at, "failed": history.now + RETRY_IN}.get(status)
        error = TEMPORARY_ERROR if status == "failed" else None
        return [
            email_row(
                template="inquiry",
                to=to,
                subject=subject,
                body=body,
                created_at=inquiry.approved_at,
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt,
                last_error=error,
                **refs,
            )
        ]
    assert plan.sent_at is not None  # noqa: S101 - narrows the type for the checker; the demo generator guarantees it
    retried = rng.random() < response.RETRY_SHARE
    mails = [
        email_row(
            template="inquiry",
            to=to,
            subject=subject,
            body=body,
            created_at=plan.approved_at,
            status="sent",
            sent_at=plan.sent_at,
            attempts=2 if retried else 1,
            last_error=RETRY_ERROR if retried else None,
            **refs,
        )
    ]
    if plan.reminder_at is not None and plan.reminder_at <= history.now:
        subject, body = reminder_text(inquiry.reference, therapist, plan.sent_at.date())
        sent = plan.reminder_at + timedelta(minutes=rng.randint(1, 5))
        if rng.random() < response.BOUNCE_SHARE:
            status, sent_at, error = "dead", None, BOUNCE_ERROR
        elif sent <= history.now:
            status, sent_at, error = "sent", sent, None
        else:
            status, sent_at, error = "queued", None, None
        mails.append(
            email_row(
                template="reminder",
                to=to,
                subject=subject,
                body=body,
                created_at=plan.reminder_at,
                status=status,
                sent_at=sent_at,
                last_error=error,
                attempts=0 if status == "queued" else 1,
                **refs,
            )
        )
    return mails


def _show_rare_statuses(rows: list[Row], history: History) -> None:
    """Make a bounced and a temporarily failed reminder visible if chance produced none."""
    reminders = [row for row in rows if row["template"] == "reminder" and row["status"] == "sent"]
    reminders.sort(key=lambda row: row["created_at"])
    if reminders and not any(row["status"] == "dead" for row in rows):
        oldest = reminders.pop(0)
        oldest.update(status="dead", sent_at=None, last_error=BOUNCE_ERROR, updated_at=oldest["created_at"])
    if reminders and not any(row["status"] == "failed" for row in rows):
        newest = reminders[-1]
        newest.update(
            status="failed",
            sent_at=None,
            last_error=TEMPORARY_ERROR,
            next_attempt_at=history.now + RETRY_IN,
            updated_at=newest["created_at"],
        )


def phone_call_rows(history: History, rng: random.Random) -> list[Row]:
    """Return every call attempt of the follow-up ladders, as it stands at ``now``."""
    rows: list[Row] = []
    for inquiry in history.inquiries:
        if inquiry.plan is None:
            continue
        for call in calls_at(inquiry.plan, history.now):
            duration = rng.randint(3, 12) if call.status == "done" else 5
            done_at = call.at + timedelta(minutes=duration) if call.status in {"done", "failed"} else None
            notes = rng.choice(FAILED_CALL_NOTES) if call.status == "failed" else CALL_NOTES.get(call.status)
            rows.append(
                {
                    "inquiry_id": Ref("inquiry", inquiry.key),
                    "therapist_id": Ref("therapist", inquiry.therapist["id"]),
                    "patient_id": None,
                    "scheduled_for": call.at,
                    "duration_minutes": duration,
                    "attempt": call.attempt,
                    "status": call.status,
                    "outcome": CALL_OUTCOMES.get(call.status),
                    "notes": notes,
                    "staff_user_id": None,
                    "done_at": done_at,
                    "created_at": call.created_at,
                    "updated_at": done_at
                    or (inquiry.plan.answered_at if call.status == "cancelled" else call.created_at),
                }
            )
    rows.sort(key=lambda row: row["created_at"])
    return [{"id": key, **row} for key, row in enumerate(rows, start=1)]
