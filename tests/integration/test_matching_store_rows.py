"""Stored proposals on real PostgreSQL: the bulk store writes exactly the rows each proposed item defines."""

import numpy as np
import pytest
from sqlalchemy import select, text

from core.matching import service
from core.matching.models import Inquiry, InquiryStatus
from core.matching.pipeline import stored_features
from core.matching.proposals import Factor, MatchingResult, ProposedInquiry, ProposedItem
from core.matching.score import PriorModel, explain_rows
from core.messages import Message, term
from tests.support.matching import NOW, STAFF, searching_patient, therapist
from tests.unit.test_match_score import random_features

ROW = """
SELECT i.therapist_id, i.practice_id, i.status, i.matching_run, i.version, i.created_at, i.updated_at,
       it.search_id, it.outcome, it.score, it.factors, it.distance_km, it.is_exploration,
       it.selection_probability, it.features, it.model_name, it.model_version, it.is_conflict, it.created_at,
       it.answered_at, it.answer_source, it.answer_message, it.proposed_first_session, it.conflict_resolved_at
FROM inquiry i JOIN inquiry_item it ON it.inquiry_id = i.id
WHERE i.id = :id ORDER BY it.id
"""


def random_result(therapists, searches, seed: int) -> MatchingResult:
    """Random inquiries over the given rows: odd sentences, unknown features and distances, exploration."""
    rng = np.random.default_rng(seed)
    frame = random_features(len(therapists) * 6, seed)
    factors = explain_rows(frame, PriorModel().contributions(frame))
    features = stored_features(frame)
    quoted = Message("factor.odd", 'Says "weight": 0.0, ä and {x}', x=term("t.x", 'a "b"\\ c'))
    odd = (Factor("odd", quoted, -0.25), Factor("plain", "a, plain\nsentence", 1e-05))
    inquiries, row = [], 0
    for therapist_row in therapists:
        size = int(rng.integers(1, 7))
        items = []
        for search in rng.choice(searches, size, replace=False):
            explored = bool(rng.random() < 0.3)
            items.append(
                ProposedItem(
                    search_id=search.id,
                    score=round(float(rng.random()), 6),
                    factors=odd if rng.random() < 0.1 else () if rng.random() < 0.1 else factors[row],
                    distance_km=None if rng.random() < 0.1 else float(rng.uniform(0, 50)),
                    is_exploration=explored,
                    selection_probability=round(float(rng.random()), 6) if explored else None,
                    features=None if rng.random() < 0.1 else features[row],
                )
            )
            row += 1
        inquiries.append(ProposedInquiry(therapist_row.id, therapist_row.practice_id, tuple(items)))
    return MatchingResult(inquiries=tuple(inquiries), stats={"model": "prior-v1", "model_version": 3})


@pytest.mark.parametrize("seed", range(3))
def test_store_proposals__rows_are_exactly_what_each_item_defines(session, seed):
    therapists = [therapist(session, f"Therapeut{n}") for n in range(8)]
    searches = [searching_patient(session, f"Muster{n}") for n in range(10)]
    result = random_result(therapists, searches, seed)

    stored = service.store_proposals(session, result=result, run_id="run-7", actor=STAFF, now=NOW)

    assert [i.therapist_id for i in stored] == [p.therapist_id for p in result.inquiries]
    for inquiry, proposed in zip(stored, result.inquiries, strict=True):
        rows = session.execute(text(ROW), {"id": inquiry.id}).all()
        expected = [
            (
                proposed.therapist_id, proposed.practice_id, InquiryStatus.PROPOSED.value, "run-7", 1, NOW, NOW,
                item.search_id, "pending", item.score,
                [factor.as_dict() for factor in item.factors],
                None if item.distance_km is None else round(item.distance_km, 2),
                item.is_exploration, item.selection_probability, item.features, "prior-v1", 3, False, NOW,
                None, None, None, None, None,
            )
            for item in proposed.items
        ]  # fmt: skip
        assert [tuple(r) for r in rows] == expected
        assert inquiry.reference.startswith("A-2026-")


def test_store_proposals__a_rerun_deletes_every_unreviewed_item(session):
    therapists = [therapist(session, f"Therapeut{n}") for n in range(4)]
    searches = [searching_patient(session, f"Muster{n}") for n in range(8)]
    first = service.store_proposals(session, result=random_result(therapists, searches, 1), run_id="r1", actor=STAFF,
                                    now=NOW)  # fmt: skip
    service.approve(session, inquiry_id=first[0].id, actor=STAFF, now=NOW)
    kept = [(i.search_id, i.score) for i in first[0].items]
    second = service.store_proposals(session, result=random_result(therapists, searches, 2), run_id="r2",
                                     actor=STAFF, now=NOW)  # fmt: skip

    runs = session.execute(text("SELECT i.matching_run, count(*) FROM inquiry_item it JOIN inquiry i ON i.id = "
                                "it.inquiry_id GROUP BY 1 ORDER BY 1")).all()  # fmt: skip
    assert runs == [("r1", len(kept)), ("r2", sum(len(p.items) for p in second))]
    session.expire_all()
    approved = session.get(Inquiry, first[0].id)
    assert [(i.search_id, i.score) for i in approved.items] == kept
    assert session.scalar(select(Inquiry.status).where(Inquiry.id == first[0].id)) == InquiryStatus.APPROVED
