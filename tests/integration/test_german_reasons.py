"""Why-not sentences and score reasons read in German: translated values, German plurals and decimals."""

import re
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.demo import seed
from core.demo.generate import demo_now
from core.matching.explain import why_not
from core.matching.models import OPEN_INQUIRY_STATUSES, Inquiry
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.models import Therapist, TherapistStatus
from dashboards.i18n import say
from tests.support.match_snapshots import SETTINGS

TODAY = date(2026, 3, 2)
NOW = demo_now(TODAY)
DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")  # 6.4, but not the dates 01.03.2026 or ICD F32.1
ENGLISH = re.compile(r"\b(female|male|patient|therapist|inquiry|inquiries|away|days? ago|and|or|none)\b")


@pytest.fixture
def demo(session: Session):
    seed(session, therapists=300, patients=80, seed=11, today=TODAY)
    session.flush()
    return session


def explain_in_german(session, search_id, therapist_id):
    explanation = why_not(session, search_id=search_id, therapist_id=therapist_id, now=NOW, settings=SETTINGS)
    failures = {f.code: say(f.sentence, "de") for f in explanation.failures}
    factors = [say(f.sentence, "de") for f in explanation.factors]
    return failures, factors


def test_why_not__gender_wish_and_open_inquiry_read_in_german(demo):
    search_id, patient_id = demo.execute(
        select(Search.id, Search.patient_id).where(Search.status == SearchStatus.ACTIVE).order_by(Search.id).limit(1)
    ).one()
    demo.execute(update(Patient).where(Patient.id == patient_id).values(therapist_gender_wish="female"))
    therapist_id = demo.scalar(
        select(Therapist.id)
        .join(Inquiry, Inquiry.practice_id == Therapist.practice_id)
        .where(Therapist.gender == "male", Therapist.status == TherapistStatus.ACTIVE)
        .where(Inquiry.status.in_(OPEN_INQUIRY_STATUSES))
        .order_by(Therapist.id)
        .limit(1)
    )
    failures, factors = explain_in_german(demo, search_id, therapist_id)
    assert failures["therapist_gender"] == "Gewünscht ist: Therapeutin; die Therapeut/in ist männlich."
    assert re.fullmatch(
        r"Die Praxis hat schon \d+ offene Anfragen?; erlaubt ist eine zur Zeit\.", failures["open_inquiry"]
    )
    for text in [*failures.values(), *factors]:
        assert not ENGLISH.search(text), text
        assert not DECIMAL_POINT.search(text), text


def test_why_not__a_patient_without_location_is_named_in_german(demo):
    search_id, patient_id = demo.execute(
        select(Search.id, Search.patient_id).where(Search.status == SearchStatus.ACTIVE).order_by(Search.id).limit(1)
    ).one()
    demo.execute(update(Patient).where(Patient.id == patient_id).values(latitude=None, longitude=None))
    therapist_id = demo.scalar(select(Therapist.id).where(Therapist.latitude.is_not(None)).order_by(Therapist.id))
    failures, _ = explain_in_german(demo, search_id, therapist_id)
    assert failures["location_missing"] == (
        "Für die Person fehlt ein Standort; eine Entfernung lässt sich nicht berechnen."
    )


def test_score_reasons__read_in_german_with_a_decimal_comma(demo):
    searches = demo.scalars(select(Search.id).where(Search.status == SearchStatus.ACTIVE).order_by(Search.id)).all()
    therapists = demo.scalars(
        select(Therapist.id).where(Therapist.status == TherapistStatus.ACTIVE).order_by(Therapist.id).limit(15)
    ).all()
    seen = []
    for search_id in searches[:3]:
        for therapist_id in therapists:
            seen += explain_in_german(demo, search_id, therapist_id)[1]
    assert any(re.fullmatch(r"\d+,\d km entfernt( \((nah|weit)\))?", text) for text in seen), seen[:20]
    for text in seen:
        assert not ENGLISH.search(text), text
        assert not DECIMAL_POINT.search(text), text
