"""Small synthetic worlds for the matching service tests: practices, therapists, searching patients, inquiries.

Rows are written directly (they are the input, not the unit under test); inquiries go through the real
service (store_proposals -> approve -> mark_queued -> mark_sent) so every test starts from real states.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from core.matching import service
from core.matching.models import Inquiry, InquiryStatus
from core.matching.proposals import Factor, MatchingResult, ProposedInquiry, ProposedItem
from core.patients.models import Patient, PatientStatus, Search, SearchStatus
from core.therapists.models import Practice, Therapist

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
STAFF = "anna@example.org"
VT_ADULTS = [{"procedure": "VT", "setting": "individual", "age_group": "adults"}]
BERLIN_MITTE = (52.5321, 13.3849)  # PLZ 10115

_counter = itertools.count(1)


def practice(session: Session, name: str = "Praxis am Park", **values) -> Practice:
    row = Practice(
        name=name,
        postcode=values.pop("postcode", "10115"),
        city="Berlin",
        latitude=BERLIN_MITTE[0],
        longitude=BERLIN_MITTE[1],
        email_normalized=f"praxis{next(_counter)}@example.org",
        **values,
    )
    session.add(row)
    session.flush()
    return row


def therapist(
    session: Session, last_name: str = "Kraus", *, practice_row: Practice | None = None, **values
) -> Therapist:
    if practice_row is None:
        practice_row = practice(session, name=f"Praxis {last_name}")
    lat, lon = values.pop("location", BERLIN_MITTE)
    row = Therapist(
        practice_id=practice_row.id, first_name=values.pop("first_name", "Jana"), last_name=last_name,
        gender=values.pop("gender", "female"), postcode="10115", city="Berlin", latitude=lat, longitude=lon,
        location_precision="address", procedures=values.pop("procedures", VT_ADULTS),
        email=f"{last_name.lower()}{next(_counter)}@example.org", **values,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def searching_patient(session: Session, last_name: str = "Beispiel", *, started_on: date = date(2026, 6, 1),
                      **values) -> Search:  # fmt: skip
    """Return the active search of a new patient in status 'searching'."""
    lat, lon = values.pop("location", (52.5200, 13.4050))  # about 2 km from the practices
    patient = Patient(
        reference=f"P-T{next(_counter):05d}",
        status=PatientStatus.SEARCHING,
        first_name=values.pop("first_name", "Lea"),
        last_name=last_name,
        gender=values.pop("gender", "female"),
        birth_date=values.pop("birth_date", date(1990, 4, 2)),
        postcode=values.pop("postcode", "10115"),
        latitude=lat,
        longitude=lon,
        location_precision="postcode",
        insurance_type="statutory",
        max_distance_km=values.pop("max_distance_km", 15.0),
        procedure_wishes=values.pop("procedure_wishes", ["VT"]),
        weekly_hours=25,
        **values,
    )
    session.add(patient)
    session.flush()
    search = Search(patient_id=patient.id, status=SearchStatus.ACTIVE, started_on=started_on)
    session.add(search)
    session.flush()
    return search


def result_for(*inquiries: tuple[Therapist, list[Search]], exploration: bool = False) -> MatchingResult:
    """A MatchingResult as the pipeline would return it: one inquiry per (therapist, searches)."""
    factor = Factor("distance", "2.0 km away (close)", 0.8)
    return MatchingResult(
        inquiries=tuple(
            ProposedInquiry(
                therapist_id=t.id,
                practice_id=t.practice_id,
                items=tuple(
                    ProposedItem(
                        search_id=s.id,
                        score=0.3,
                        factors=(factor,),
                        distance_km=2.04,
                        is_exploration=exploration,
                        selection_probability=0.2 if exploration else None,
                    )
                    for s in searches
                ),
            )
            for t, searches in inquiries
        ),
        stats={"searches": 1},
    )


def propose(session: Session, therapist_row: Therapist, searches: list[Search], *, run_id: str = "run-1") -> Inquiry:
    """Store one proposal (replacing the unreviewed ones) and return it."""
    [inquiry] = service.store_proposals(
        session, result=result_for((therapist_row, searches)), run_id=run_id, actor=STAFF, now=NOW
    )
    return inquiry


def sent(
    session: Session, therapist_row: Therapist, searches: list[Search], *, status=InquiryStatus.SENT, now=NOW
) -> Inquiry:
    """An inquiry that went out (approved, queued, sent) to ``therapist_row`` with ``searches``."""
    inquiry = propose(session, therapist_row, searches)
    service.approve(session, inquiry_id=inquiry.id, actor=STAFF, now=now)
    if status in (InquiryStatus.QUEUED, InquiryStatus.SENT):
        service.mark_queued(session, inquiry_id=inquiry.id, actor="job:send_mail", now=now)
    if status == InquiryStatus.SENT:
        service.mark_sent(session, inquiry_id=inquiry.id, actor="job:send_mail", now=now)
    return inquiry
