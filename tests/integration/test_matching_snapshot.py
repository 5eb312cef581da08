"""The snapshot read from PostgreSQL: the values PostgreSQL computes for the filters equal the records' own,
and the therapist side kept between runs is read again as soon as a therapist or practice changes."""

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.demo import seed
from core.demo.generate import demo_now
from core.matching import snapshot as snapshots
from core.patients.models import Patient, Search, SearchStatus
from core.patients.rules import age_on
from core.therapists.models import Practice, Therapist, TherapistStatus

TODAY = date(2026, 3, 2)
NOW = demo_now(TODAY)


@pytest.fixture(scope="module")
def demo_db(engine):
    """The small demo (300 therapists, 80 patients), seeded once and rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    seed(db, therapists=300, patients=80, seed=5, today=TODAY)
    db.flush()
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def db(demo_db):
    savepoint = demo_db.begin_nested()
    yield demo_db
    savepoint.rollback()
    demo_db.expire_all()


def load(db: Session) -> snapshots.Snapshot:
    return snapshots.load_snapshot(db, now=NOW, today=TODAY)


def therapist_values(snapshot: snapshots.Snapshot, therapist_id: int, column: str):
    return snapshot.therapists[column].to_numpy()[snapshot.therapist_row(therapist_id)]


def test_load_snapshot__therapist_filter_values_equal_the_records(db):
    snapshot = load(db)
    therapists = db.scalars(select(Therapist).where(Therapist.status == TherapistStatus.ACTIVE)).all()
    assert len(snapshot.therapists) == len(therapists) > 0
    for therapist in therapists:
        hours = therapist.phone_hours or (therapist.practice.phone_hours if therapist.practice else None) or {}
        row = snapshot.therapist_row(therapist.id)
        assert snapshot.therapists["procedure_mask"].iat[row] == snapshots._procedures_mask(therapist.procedures)
        assert snapshot.therapists["hours_days"].iat[row] == snapshots._hours_days(hours)
        assert tuple(snapshot.therapists["languages"].iat[row]) == tuple(therapist.languages)
        assert tuple(snapshot.therapists["pref_diagnoses"].iat[row]) == tuple(therapist.pref_diagnoses)


def test_load_snapshot__search_filter_values_equal_the_records(db):
    snapshot = load(db)
    searches = db.scalars(select(Search).where(Search.status == SearchStatus.ACTIVE)).all()
    assert len(snapshot.searches) == len(searches) > 0
    for search in searches:
        patient = search.patient
        row = snapshot.search_row(search.id)
        hours = [snapshot.searches[f"avail_{day}"].iat[row] for day in range(7)]
        assert hours == pytest.approx(snapshots._availability_hours(patient.availability))
        assert snapshot.searches["age"].iat[row] == age_on(patient.birth_date, TODAY)
        assert tuple(snapshot.searches["diagnoses"].iat[row]) == tuple(patient.diagnoses)
        assert tuple(snapshot.searches["procedure_wishes"].iat[row]) == tuple(patient.procedure_wishes)
        assert list(snapshot.searches["relaxations"].iat[row]) == list(search.relaxations or [])
        excluded = sorted(set(patient.excluded_therapist_ids or []) | set(search.excluded_therapist_ids or []))
        assert list(snapshot.searches["excluded_therapist_ids"].iat[row]) == excluded


def test_load_snapshot__a_therapist_changed_after_a_run_is_read_again(db):
    first = load(db)
    therapist_id = int(first.therapists["therapist_id"].iat[0])
    db.execute(update(Therapist).where(Therapist.id == therapist_id).values(gender="male", languages=["de", "uk"]))
    second = load(db)
    assert therapist_values(second, therapist_id, "gender") == "male"
    assert tuple(therapist_values(second, therapist_id, "languages")) == ("de", "uk")
    db.execute(update(Therapist).where(Therapist.id == therapist_id).values(gender="female"))  # same transaction
    assert therapist_values(load(db), therapist_id, "gender") == "female"


def test_load_snapshot__a_blocked_therapist_leaves_and_a_practice_change_shows(db):
    first = load(db)
    row = int(np.flatnonzero(first.therapists["practice_id"].notna().to_numpy())[0])
    therapist_id, practice_id = (
        int(first.therapists["therapist_id"].iat[row]),
        int(first.therapists["practice_id"].iat[row]),
    )
    db.execute(update(Therapist).where(Therapist.practice_id == practice_id).values(phone_hours={}))
    db.execute(update(Practice).where(Practice.id == practice_id).values(phone_hours={"4": [["08:00", "09:00"]]}))
    assert therapist_values(load(db), therapist_id, "hours_days") == 1 << 4
    db.execute(update(Therapist).where(Therapist.id == therapist_id).values(status="blocked", status_reason="test"))
    assert load(db).therapist_row(therapist_id) == -1


def test_load_snapshot__an_unchanged_database_reuses_the_therapist_side(db):
    snapshots.forget_cached_therapists()
    first = load(db)
    second = load(db)
    assert second.therapists["therapist_id"].tolist() == first.therapists["therapist_id"].tolist()
    assert snapshots._THERAPIST_CACHE.get(snapshots.reads.data_version(db)) is not None


def test_load_snapshot__erased_patients_are_not_read(db):
    patient_id = db.scalars(select(Search.patient_id).where(Search.status == SearchStatus.ACTIVE)).first()
    db.execute(update(Patient).where(Patient.id == patient_id).values(erased_at=NOW))
    assert patient_id not in set(load(db).searches["patient_id"])
