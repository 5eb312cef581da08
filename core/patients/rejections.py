"""The Absagenliste: for one patient, the practices contacted and their answers, dated and printable.

Patients need it to claim reimbursement of a private therapy under §13(3) SGB V when no statutory place
was found. Example: ``rows = rejection_list(session, patient_id=7)``;
``render_html(patient, rows, today=clock.today())``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.contact import display_phone
from core.matching.models import Inquiry, InquiryItem, ItemOutcome
from core.patients.models import Patient, Search
from core.therapists.duplicates import display_name
from core.therapists.models import Practice, Therapist

OUTCOME_DE = {
    ItemOutcome.PENDING: "noch keine Antwort",
    ItemOutcome.ACCEPTED: "Platz angeboten",
    ItemOutcome.DECLINED_CAPACITY: "Absage: keine Kapazität",
    ItemOutcome.DECLINED_UNSUITABLE: "Absage: nicht passend",
    ItemOutcome.DECLINED_OTHER: "Absage: sonstiger Grund",
    ItemOutcome.NO_ANSWER: "keine Antwort trotz Nachfrage",
    ItemOutcome.NO_SHOW: "Platz angeboten (nicht wahrgenommen)",
    ItemOutcome.IN_SESSIONS: "Platz angeboten (in Behandlung)",
    ItemOutcome.WITHDRAWN: "Anfrage zurückgezogen (anderer Platz gefunden)",
}


@dataclass(frozen=True)
class Contact:
    contacted_on: date
    therapist: str
    address: str
    phone: str | None  # as dialled (core.contact.display_phone), e.g. "030 1234567"
    inquiry_reference: str
    outcome: ItemOutcome
    answered_on: date | None

    @property
    def outcome_text(self) -> str:
        return OUTCOME_DE[self.outcome]


def rejection_list(session: Session, *, patient_id: int) -> list[Contact]:
    """Return every inquiry sent for the patient, oldest first (proposals never sent are not contacts)."""
    rows = session.execute(
        select(InquiryItem, Inquiry, Therapist, Practice)
        .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
        .join(Search, Search.id == InquiryItem.search_id)
        .join(Therapist, Therapist.id == Inquiry.therapist_id)
        .outerjoin(Practice, Practice.id == Inquiry.practice_id)
        .where(Search.patient_id == patient_id, Inquiry.sent_at.is_not(None))
        .order_by(Inquiry.sent_at, Inquiry.id)
    ).all()
    contacts = []
    for item, inquiry, therapist, practice in rows:
        name = display_name(therapist.title, therapist.first_name, therapist.last_name)
        street = therapist.street or (practice.street if practice else None)
        place = " ".join(p for p in (therapist.postcode, therapist.city) if p)
        contacts.append(
            Contact(
                contacted_on=clock.local_date(inquiry.sent_at),
                therapist=name,
                address=", ".join(p for p in (street, place) if p),
                phone=display_phone(therapist.phone or (practice.phone if practice else None)) or None,
                inquiry_reference=inquiry.reference,
                outcome=item.outcome,
                answered_on=clock.local_date(item.answered_at) if item.answered_at else None,
            )
        )
    return contacts


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
_TEMPLATE = _env.get_template("absagenliste.html.j2")

DECLINES = {ItemOutcome.DECLINED_CAPACITY, ItemOutcome.DECLINED_UNSUITABLE, ItemOutcome.DECLINED_OTHER}


def render_html(patient: Patient, contacts: list[Contact], *, today: date) -> str:
    """Return the printable HTML list (names are autoescaped)."""
    return _TEMPLATE.render(
        patient=patient,
        contacts=contacts,
        today=today,
        declined=sum(c.outcome in DECLINES for c in contacts),
        unanswered=sum(c.outcome == ItemOutcome.NO_ANSWER for c in contacts),
    )


def render_csv(contacts: list[Contact]) -> str:
    """Return the list as CSV (semicolon-separated, as German spreadsheet programs expect)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Kontakt am", "Therapeut/in", "Adresse", "Telefon", "Antwort", "Antwort am", "Anfrage"])
    for c in contacts:
        writer.writerow(
            [
                c.contacted_on.strftime("%d.%m.%Y"),
                c.therapist,
                c.address,
                c.phone or "",
                c.outcome_text,
                c.answered_on.strftime("%d.%m.%Y") if c.answered_on else "",
                c.inquiry_reference,
            ]
        )
    return out.getvalue()


def file_stem(patient: Patient, today: date) -> str:
    """Return the download's file name without extension, dated with the service's local ``today``."""
    return f"absagenliste-{patient.reference}-{today:%Y-%m-%d}"
