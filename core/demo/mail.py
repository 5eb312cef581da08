"""Texts and rows of the demo's e-mails: inquiries and reminders to practices, placements to patients.

Inquiries carry only what a therapist needs (DESIGN 3.2): pseudonymous reference, age, gender, insurance
type, symptoms, diagnoses, availability and procedure wish; never names or addresses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.demo.refs import Ref

Row = dict[str, Any]

WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
GENDERS = {"female": "weiblich", "male": "männlich", "diverse": "divers", "unknown": "ohne Angabe"}
INSURANCE = {
    "statutory": "gesetzlich",
    "private": "privat",
    "subsidy": "beihilfeberechtigt",
    "self_pay": "selbst zahlend",
}
SIGNATURE = "Mit freundlichen Grüßen\nIhre Vermittlungsstelle (Demo)"


def salutation(therapist: Row) -> str:
    """Return the greeting line, e.g. "Guten Tag Frau Dr. Weber"."""
    # only doctorates and professorships belong in a salutation, not Dipl.-Psych. or M.Sc.
    title = f"{therapist['title']} " if (therapist["title"] or "").startswith(("Dr", "Prof")) else ""
    form = {"female": "Frau ", "male": "Herr "}.get(therapist["gender"])
    name = (
        f"{form}{title}{therapist['last_name']}"
        if form
        else f"{title}{therapist['first_name']} {therapist['last_name']}"
    )
    return f"Guten Tag {name}"


def patient_line(patient: Row, age: int) -> str:
    """Return one data-minimised line about a patient for an inquiry."""
    parts = [
        f"{age} Jahre",
        GENDERS[patient["gender"]],
        f"{INSURANCE.get(patient['insurance_type'], 'ohne')} versichert",
    ]
    wish = "/".join(patient["procedure_wishes"]) or "offen"
    diagnoses = ", ".join(patient["diagnoses"]) or "noch keine"
    hours = ", ".join(f"{WEEKDAYS[w['weekday']]} {w['start']}-{w['end']}" for w in patient["availability"])
    return (
        f"- {patient['reference']}: {', '.join(parts)}; {', '.join(patient['symptoms'])}; "
        f"Diagnose: {diagnoses}; Verfahren: {wish}; Zeiten: {hours}"
    )


def inquiry_text(reference: str, therapist: Row, lines: list[str]) -> tuple[str, str]:
    """Return (subject, body) of an inquiry bundling the patients in ``lines``."""
    subject = f"Anfrage {reference}: {len(lines)} Patient/innen suchen einen Therapieplatz"
    body = (
        f"{salutation(therapist)},\n\nwir suchen für die folgenden, vorab geprüften Patient/innen einen "
        f"ambulanten Therapieplatz:\n\n" + "\n".join(lines) + "\n\nBitte antworten Sie je Patient/in über den "
        f"Link oder auf diese E-Mail (Betreff mit {reference}).\n\n{SIGNATURE}"
    )
    return subject, body


def reminder_text(reference: str, therapist: Row, sent: date) -> tuple[str, str]:
    """Return (subject, body) of the reminder a week after an unanswered inquiry."""
    subject = f"Erinnerung: Anfrage {reference} vom {sent:%d.%m.%Y}"
    body = (
        f"{salutation(therapist)},\n\nwir haben auf unsere Anfrage {reference} vom {sent:%d.%m.%Y} noch keine "
        f"Antwort erhalten. Eine kurze Rückmeldung, auch eine Absage, hilft den Patient/innen sehr.\n\n{SIGNATURE}"
    )
    return subject, body


def placement_text(patient: Row, therapist: Row, first_session: date) -> tuple[str, str]:
    """Return (subject, body) telling a patient where their first session is."""
    name = " ".join(part for part in (therapist["title"], therapist["first_name"], therapist["last_name"]) if part)
    if patient["contact_language"] == "en":
        return "A therapy place for you", (
            f"Hello {patient['first_name']} {patient['last_name']},\n\n{name} can offer you a first session on "
            f"{first_session:%d %B %Y}. Please call the practice to confirm.\n\nKind regards\nYour placement service"
        )
    return "Ein Therapieplatz für Sie", (
        f"Guten Tag {patient['first_name']} {patient['last_name']},\n\n{name} bietet Ihnen ein Erstgespräch am "
        f"{first_session:%d.%m.%Y} an. Bitte bestätigen Sie den Termin telefonisch in der Praxis.\n\n{SIGNATURE}"
    )


def email_row(
    *,
    template: str,
    to: str,
    subject: str,
    body: str,
    created_at: datetime,
    status: str,
    sent_at: datetime | None = None,
    language: str = "de",
    attempts: int = 1,
    next_attempt_at: datetime | None = None,
    last_error: str | None = None,
    inquiry: Ref | None = None,
    patient: Ref | None = None,
    therapist: Ref | None = None,
) -> Row:
    """Return one email row; ``number_emails`` gives it its key and message id."""
    return {
        "id": None,
        "template": template,
        "language": language,
        "to_address": to,
        "subject": subject,
        "body_text": body,
        "body_html": None,
        "message_id": None,
        "status": status,
        "attempts": attempts,
        "next_attempt_at": next_attempt_at,
        "last_error": last_error,
        "needs_review": False,
        "inquiry_id": inquiry,
        "patient_id": patient,
        "therapist_id": therapist,
        "sent_at": sent_at,
        "created_at": created_at,
        "updated_at": sent_at or created_at,
    }


def number_emails(rows: list[Row]) -> list[Row]:
    """Sort e-mails by creation and give each its key and a unique Message-ID."""
    rows.sort(key=lambda row: row["created_at"])
    for key, row in enumerate(rows, start=1):
        row["id"] = key
        row["message_id"] = f"<demo-{key}.{row['template']}@vermittlung.example.org>"
    return rows
