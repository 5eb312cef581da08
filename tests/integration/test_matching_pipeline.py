"""Matching pipeline on demo data: a run keeps every contact limit of the database, and "Why not?" agrees with it."""

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from core.demo import seed
from core.demo.generate import demo_now
from core.errors import NotFound
from core.geo.distance import haversine_km
from core.matching.candidates import find_candidates
from core.matching.explain import why_not
from core.matching.filters import REASON_CODES, evaluate
from core.matching.models import OPEN_INQUIRY_STATUSES, Inquiry, InquiryStatus
from core.matching.pipeline import propose, service_today
from core.matching.snapshot import load_snapshot
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.models import Therapist, TherapistStatus
from tests.support.match_snapshots import SETTINGS

TODAY = date(2026, 3, 2)
NOW = demo_now(TODAY)
OPEN = tuple(status.value for status in OPEN_INQUIRY_STATUSES)


@pytest.fixture(scope="class")
def demo_db(engine):
    """The small demo (300 therapists, 80 patients), seeded once per class and rolled back at its end."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    seed(db, therapists=300, patients=80, seed=11, today=TODAY)
    db.flush()
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def db(demo_db):
    """The demo inside a savepoint: what a test changes is gone for the next one."""
    savepoint = demo_db.begin_nested()
    yield demo_db
    savepoint.rollback()
    demo_db.expire_all()


def rows(db: Session, sql: str, **params) -> list:
    return db.execute(text(sql), params).all()


def scalar(db: Session, sql: str, **params):
    return db.execute(text(sql), params).scalar_one()


class TestMatchingOnDemoData:
    def test_propose__inquiries_keep_every_contact_limit_of_the_database(self, db):
        result = propose(db, now=NOW, settings=SETTINGS, seed=3)
        assert result.inquiries, "the demo should leave something to propose"
        practices = []
        new_items = Counter()
        for inquiry in result.inquiries:
            assert 1 <= len(inquiry.items) <= SETTINGS.match_inquiry_max_size
            status, practice_id = rows(
                db, "SELECT status, practice_id FROM therapist WHERE id = :t", t=inquiry.therapist_id
            )[0]
            assert status == "active"
            assert inquiry.practice_id == practice_id
            practices.append(practice_id if practice_id is not None else -inquiry.therapist_id)
            if practice_id is not None:
                assert (
                    scalar(
                        db, f"SELECT count(*) FROM inquiry WHERE practice_id = :p AND status IN {OPEN}", p=practice_id
                    )
                    == 0
                )
                cooldown = scalar(db, "SELECT cooldown_until FROM practice WHERE id = :p", p=practice_id)
                assert cooldown is None or cooldown <= TODAY
                recent = scalar(
                    db,
                    "SELECT count(*) FROM inquiry WHERE practice_id = :p AND status NOT IN ('proposed', 'discarded')"
                    " AND (sent_at >= :since OR approved_at >= :since)",
                    p=practice_id, since=NOW - timedelta(days=30),
                )  # fmt: skip
                assert recent < SETTINGS.match_monthly_cap
            for item in inquiry.items:
                new_items[item.search_id] += 1
                search_status, patient_excluded, search_excluded = rows(
                    db,
                    "SELECT s.status, p.excluded_therapist_ids, s.excluded_therapist_ids FROM search s"
                    " JOIN patient p ON p.id = s.patient_id WHERE s.id = :s",
                    s=item.search_id,
                )[0]
                assert search_status == "active"
                assert inquiry.therapist_id not in patient_excluded + search_excluded
                declined = scalar(
                    db,
                    "SELECT count(*) FROM inquiry_item i JOIN inquiry q ON q.id = i.inquiry_id"
                    " WHERE i.search_id = :s AND q.therapist_id = :t AND (i.outcome = 'declined_unsuitable'"
                    " OR (i.outcome = 'declined_capacity' AND i.answered_at >= :since))",
                    s=item.search_id, t=inquiry.therapist_id, since=NOW - timedelta(days=90),
                )  # fmt: skip
                assert declined == 0
                (lat, lon), (tlat, tlon) = (
                    rows(db, "SELECT p.latitude, p.longitude FROM search s JOIN patient p ON p.id = s.patient_id"
                             " WHERE s.id = :s", s=item.search_id)[0],
                    rows(db, "SELECT latitude, longitude FROM therapist WHERE id = :t", t=inquiry.therapist_id)[0],
                )  # fmt: skip
                assert item.distance_km == pytest.approx(float(haversine_km(lat, lon, tlat, tlon)), abs=0.01)
                assert 0 < item.score < 1
                assert 1 <= len(item.factors) <= 3
        assert len(practices) == len(set(practices))  # one new inquiry per practice
        for search_id, count in new_items.items():
            open_items, limit = rows(
                db,
                "SELECT (SELECT count(*) FROM inquiry_item i JOIN inquiry q ON q.id = i.inquiry_id"
                f" WHERE i.search_id = s.id AND i.outcome = 'pending' AND q.status IN {OPEN}),"
                " s.max_parallel_inquiries FROM search s WHERE s.id = :s",
                s=search_id,
            )[0]
            assert open_items + count <= limit

    def test_why_not__agrees_with_the_pipeline_on_passing_and_failing_pairs(self, db):
        snapshot = load_snapshot(db, now=NOW, today=service_today(NOW, SETTINGS))
        found = find_candidates(snapshot)
        checked = evaluate(snapshot, found.search_rows, found.therapist_rows, found.distance_km, settings=SETTINGS)
        picked = list(np.flatnonzero(checked.passed)[:15])
        for code in REASON_CODES:  # a few failing pairs of every reason the run met
            picked += list(np.flatnonzero(checked.failed[code])[:3])
        assert len(picked) > 40
        seen = set()
        for pair in picked:
            search_id = int(snapshot.searches["search_id"].iat[found.search_rows[pair]])
            therapist_id = int(snapshot.therapists["therapist_id"].iat[found.therapist_rows[pair]])
            explanation = why_not(db, search_id=search_id, therapist_id=therapist_id, now=NOW, settings=SETTINGS)
            assert [f.code for f in explanation.failures] == checked.reasons(pair), (search_id, therapist_id)
            assert explanation.passed == bool(checked.passed[pair])
            assert explanation.distance_km == pytest.approx(found.distance_km[pair], abs=0.01)
            seen.update(checked.reasons(pair))
        assert {"cooldown", "open_inquiry", "procedure"} <= seen  # the demo's history makes these common

    def test_why_not__proposed_pairs_pass_and_pairs_beyond_reach_say_so(self, db):
        result = propose(db, now=NOW, settings=SETTINGS, seed=3)
        inquiry = result.inquiries[0]
        item = inquiry.items[0]
        explanation = why_not(
            db, search_id=item.search_id, therapist_id=inquiry.therapist_id, now=NOW, settings=SETTINGS
        )
        assert explanation.passed
        assert explanation.failures == ()
        assert explanation.score == pytest.approx(item.score, abs=1e-6)
        assert [(f.code, f.sentence) for f in explanation.factors] == [(f.code, f.sentence) for f in item.factors]
        assert [f.weight for f in explanation.factors] == pytest.approx([f.weight for f in item.factors], abs=1e-6)
        far = db.scalar(
            select(Therapist.id)
            .where(Therapist.latitude.is_not(None), Therapist.latitude < 49.0)  # Bavaria and Baden
            .order_by(Therapist.id)
            .limit(1)
        )
        north = db.scalar(
            select(Search.id).join(Patient).where(Search.status == SearchStatus.ACTIVE, Patient.latitude > 53.0)
            .order_by(Search.id).limit(1)
        )  # fmt: skip
        explanation = why_not(db, search_id=north, therapist_id=far, now=NOW, settings=SETTINGS)
        codes = [f.code for f in explanation.failures]
        assert "too_far" in codes or "travel_time" in codes
        assert explanation.distance_km > 400
        assert explanation.travel_minutes > explanation.distance_km / 60  # slower than 60 km per minute

    def test_why_not__names_a_paused_search_and_an_inactive_therapist(self, db):
        paused = db.scalar(select(Search.id).where(Search.status == SearchStatus.PAUSED).order_by(Search.id).limit(1))
        inactive = db.scalar(
            select(Therapist.id).where(Therapist.status == TherapistStatus.INACTIVE).order_by(Therapist.id).limit(1)
        )
        explanation = why_not(db, search_id=paused, therapist_id=inactive, now=NOW, settings=SETTINGS)
        codes = [f.code for f in explanation.failures]
        assert codes[0] == "search_inactive"
        assert "therapist_inactive" in codes
        assert explanation.failures[0].sentence == "The search is paused, not active; only active searches are matched."

    def test_why_not__unknown_ids_raise_not_found(self, db):
        therapist = db.scalar(select(Therapist.id).limit(1))
        search = db.scalar(select(Search.id).limit(1))
        with pytest.raises(NotFound, match="Search 999999 does not exist"):
            why_not(db, search_id=999_999, therapist_id=therapist, now=NOW, settings=SETTINGS)
        with pytest.raises(NotFound, match="Therapist 999999 does not exist"):
            why_not(db, search_id=search, therapist_id=999_999, now=NOW, settings=SETTINGS)

    def test_propose__the_same_seed_gives_the_same_proposals(self, db):
        first = propose(db, now=NOW, settings=SETTINGS, seed=5)
        second = propose(db, now=NOW, settings=SETTINGS, seed=5)
        assert first.inquiries == second.inquiries
        assert first.stats["objective_optimised"] >= first.stats["objective_greedy"]
        assert set(first.stats["filter_failures"]) == set(REASON_CODES)

    def test_propose__a_region_matches_only_its_searches(self, db):
        region = db.scalar(
            select(Patient.postcode)
            .join(Search)
            .where(Search.status == SearchStatus.ACTIVE)
            .order_by(Search.id)
            .limit(1)
        )[:2]
        result = propose(db, now=NOW, settings=SETTINGS, region=region, seed=1)
        searches = [item.search_id for inquiry in result.inquiries for item in inquiry.items]
        postcodes = db.scalars(select(Patient.postcode).join(Search).where(Search.id.in_(searches))).all()
        assert all(code.startswith(region) for code in postcodes)
        expected = scalar(
            db,
            "SELECT count(*) FROM search s JOIN patient p ON p.id = s.patient_id"
            " WHERE s.status = 'active' AND p.postcode LIKE :prefix AND p.erased_at IS NULL",
            prefix=f"{region}%",
        )
        assert result.stats["searches"] == expected
        assert result.stats["region"] == region

    def test_snapshot__unreviewed_proposals_do_not_block_a_practice_but_approved_ones_do(self, db):
        sent = db.scalar(
            select(Inquiry)
            .where(Inquiry.status.in_(OPEN_INQUIRY_STATUSES), Inquiry.practice_id.is_not(None))
            .order_by(Inquiry.id)
            .limit(1)
        )
        practice_id, search_id, therapist_id = sent.practice_id, sent.items[0].search_id, sent.therapist_id
        before = scalar(db, f"SELECT count(*) FROM inquiry WHERE practice_id = :p AND status IN {OPEN}", p=practice_id)

        def state() -> tuple[int, list[str]]:
            snapshot = load_snapshot(db, now=NOW, today=TODAY)
            count = int(snapshot.practices.set_index("practice_key").loc[practice_id, "open_inquiries"])
            explanation = why_not(db, search_id=search_id, therapist_id=therapist_id, now=NOW, settings=SETTINGS)
            return count, [f.code for f in explanation.failures]

        count, codes = state()
        assert count == before >= 1
        assert "open_inquiry" in codes
        db.execute(update(Inquiry).where(Inquiry.id == sent.id).values(status=InquiryStatus.PROPOSED))
        count, codes = state()
        assert count == before - 1
        assert ("open_inquiry" in codes) == (before > 1)  # a proposal is replaced by the next run: not open
        db.execute(update(Inquiry).where(Inquiry.id == sent.id).values(status=InquiryStatus.APPROVED))
        count, codes = state()
        assert count == before
        assert "open_inquiry" in codes

    def test_propose__a_relaxation_widens_the_search(self, db):
        snapshot = load_snapshot(db, now=NOW, today=TODAY)
        found = find_candidates(snapshot)
        per_search = np.bincount(found.search_rows, minlength=len(snapshot.searches))
        row = int(np.flatnonzero((per_search == per_search.min()) & ~np.isnan(snapshot.searches["latitude"]))[0])
        search_id = int(snapshot.searches["search_id"].iat[row])
        db.execute(
            update(Search)
            .where(Search.id == search_id)
            .values(relaxations=[{"rule": "distance", "value": 150, "by": "anna@example.org", "reason": "rural",
                                  "at": NOW.isoformat()}])
        )  # fmt: skip
        widened = load_snapshot(db, now=NOW, today=TODAY)
        assert widened.searches.set_index("search_id").loc[search_id, "limit_km"] == 150
        found = find_candidates(widened, search_rows=np.array([widened.search_row(search_id)]))
        assert len(found) > per_search[row]
        therapist_id = int(widened.therapists["therapist_id"].iat[found.therapist_rows[-1]])
        explanation = why_not(db, search_id=search_id, therapist_id=therapist_id, now=NOW, settings=SETTINGS)
        assert "too_far" not in [f.code for f in explanation.failures]
        assert explanation.notes[-1] == "Relaxed by anna@example.org: distance up to 150 km (rural)."
