"""Find and delete earlier demo data (see ``core.demo.markers``), leaving every other record alone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core.db.models import (
    AuditEvent,
    Consent,
    DomainEvent,
    Email,
    FailingAddress,
    GeocacheEntry,
    InboundMail,
    Inquiry,
    InquiryItem,
    JobRun,
    Patient,
    PhoneCall,
    Placement,
    Practice,
    Search,
    Therapist,
)
from core.demo.markers import (
    DEMO_ACTOR,
    DEMO_EXTERNAL_ID_PREFIX,
    DEMO_GEOCACHE_SOURCE,
    DEMO_MESSAGE_ID_PREFIX,
    DEMO_NOTE,
)

_DEMO_PATIENT = Patient.notes.startswith(DEMO_NOTE, autoescape=True)
_DEMO_THERAPIST = Therapist.external_id.startswith(DEMO_EXTERNAL_ID_PREFIX, autoescape=True)
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class Existing:
    """Patients and therapists already in the database, and how many of them are demo data."""

    patients: int
    therapists: int
    demo_patients: int
    demo_therapists: int

    @property
    def real_patients(self) -> int:
        return self.patients - self.demo_patients

    @property
    def real_therapists(self) -> int:
        return self.therapists - self.demo_therapists


def count_existing(session: Session) -> Existing:
    """Count patients and therapists, in total and those the demo seed made."""

    def count(model: type, *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return Existing(
        patients=count(Patient),
        therapists=count(Therapist),
        demo_patients=count(Patient, _DEMO_PATIENT),
        demo_therapists=count(Therapist, _DEMO_THERAPIST),
    )


def delete_demo_rows(session: Session) -> None:
    """Delete demo patients and therapists with everything hanging off them, and the demo's log rows."""
    patients = select(Patient.id).where(_DEMO_PATIENT)
    therapists = select(Therapist.id).where(_DEMO_THERAPIST)
    searches = select(Search.id).where(Search.patient_id.in_(patients))
    inquiry_ids = session.scalars(
        select(Inquiry.id).where(
            or_(
                Inquiry.therapist_id.in_(therapists),
                Inquiry.id.in_(select(InquiryItem.inquiry_id).where(InquiryItem.search_id.in_(searches))),
            )
        )
    ).all()
    practice_ids = session.scalars(select(Therapist.practice_id).distinct().where(_DEMO_THERAPIST)).all()
    _delete_inbound_mail(session, inquiry_ids=inquiry_ids, patients=patients, therapists=therapists)
    for model in (Email, PhoneCall):
        linked = or_(
            model.inquiry_id.in_(inquiry_ids), model.patient_id.in_(patients), model.therapist_id.in_(therapists)
        )
        session.execute(delete(model).where(linked), execution_options=_NO_SYNC)
    session.execute(
        delete(Placement).where(or_(Placement.search_id.in_(searches), Placement.therapist_id.in_(therapists))),
        execution_options=_NO_SYNC,
    )
    session.execute(
        delete(InquiryItem).where(or_(InquiryItem.inquiry_id.in_(inquiry_ids), InquiryItem.search_id.in_(searches))),
        execution_options=_NO_SYNC,
    )
    session.execute(delete(Inquiry).where(Inquiry.id.in_(inquiry_ids)), execution_options=_NO_SYNC)
    session.execute(delete(Search).where(Search.patient_id.in_(patients)), execution_options=_NO_SYNC)
    session.execute(delete(Consent).where(Consent.patient_id.in_(patients)), execution_options=_NO_SYNC)
    session.execute(delete(Patient).where(_DEMO_PATIENT), execution_options=_NO_SYNC)
    session.execute(delete(Therapist).where(_DEMO_THERAPIST), execution_options=_NO_SYNC)
    unused = ~select(Therapist.id).where(Therapist.practice_id == Practice.id).exists()
    session.execute(delete(Practice).where(Practice.id.in_(practice_ids), unused), execution_options=_NO_SYNC)
    session.execute(delete(JobRun).where(JobRun.triggered_by == DEMO_ACTOR), execution_options=_NO_SYNC)
    session.execute(delete(AuditEvent).where(AuditEvent.actor == DEMO_ACTOR), execution_options=_NO_SYNC)
    session.execute(
        delete(DomainEvent).where(DomainEvent.payload["origin"].astext == DEMO_ACTOR), execution_options=_NO_SYNC
    )
    delete_demo_geocache(session)


def _delete_inbound_mail(session: Session, *, inquiry_ids, patients, therapists) -> None:
    """Delete the demo's received mail, the addresses its bounces marked and the events they caused."""
    emails = select(Email.id).where(
        or_(Email.inquiry_id.in_(inquiry_ids), Email.patient_id.in_(patients), Email.therapist_id.in_(therapists))
    )
    inbound_ids = session.scalars(
        select(InboundMail.id).where(
            or_(
                InboundMail.inquiry_id.in_(inquiry_ids),
                InboundMail.email_id.in_(emails),
                InboundMail.message_id.startswith(DEMO_MESSAGE_ID_PREFIX, autoescape=True),
            )
        )
    ).all()
    session.execute(
        delete(FailingAddress).where(
            or_(FailingAddress.inbound_mail_id.in_(inbound_ids), FailingAddress.therapist_id.in_(therapists))
        ),
        execution_options=_NO_SYNC,
    )
    session.execute(delete(InboundMail).where(InboundMail.id.in_(inbound_ids)), execution_options=_NO_SYNC)
    for aggregate, ids in (("inbound_mail", inbound_ids), ("inquiry", inquiry_ids)):
        session.execute(
            delete(DomainEvent).where(
                DomainEvent.aggregate_type == aggregate, DomainEvent.aggregate_id.in_([str(i) for i in ids])
            ),
            execution_options=_NO_SYNC,
        )


def delete_demo_geocache(session: Session) -> None:
    """Delete the demo's geocoding cache entries (a cache: safe to drop at any time)."""
    session.execute(
        delete(GeocacheEntry).where(GeocacheEntry.source == DEMO_GEOCACHE_SOURCE), execution_options=_NO_SYNC
    )
