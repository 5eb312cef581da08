"""Training data is fixed at proposal time: later answers and contacts never change a stored feature row."""

from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from core.config import load_settings
from core.matching import service
from core.matching.models import InquiryItem, ItemOutcome
from core.matching.score import FEATURE_COLUMNS, build_features
from core.matching.snapshot import load_snapshot
from core.models_registry.training import training_frame
from tests.support.matching import NOW, STAFF, searching_patient, sent, therapist

SETTINGS = load_settings(match_exploration_share=0.0)


def test_proposal__stores_the_features_its_score_used_and_the_model(session):
    kraus = therapist(session, "Kraus", accepting_patients=True, accepting_confirmed_on=NOW.date())
    lea = searching_patient(session, "Beispiel")
    counts = service.scheduled_run(session, now=NOW, seed=1, settings=SETTINGS)
    assert counts["items"] == 1
    item = session.scalar(select(InquiryItem).where(InquiryItem.search_id == lea.id))
    assert item.model_name == "prior-v1"
    assert item.model_version is None
    assert set(item.features) == set(FEATURE_COLUMNS)
    assert abs(item.features["distance_km"] - item.distance_km) < 0.01
    assert item.features["accepting"] == 1.0
    assert item.features["days_since_contact"] is None  # never contacted: unknown, not zero
    assert kraus.id == item.inquiry.therapist_id


def test_training_frame__never_sees_what_happened_after_the_proposal(session):
    kraus = therapist(session, "Kraus")
    lea, tom = searching_patient(session, "Beispiel"), searching_patient(session, "Muster", first_name="Tom")
    service.scheduled_run(session, now=NOW, seed=1, settings=SETTINGS)
    proposed = {i.search_id: i for i in session.scalars(select(InquiryItem))}
    stored = {search: dict(item.features) for search, item in proposed.items()}
    inquiry_id = proposed[lea.id].inquiry_id
    service.approve(session, inquiry_id=inquiry_id, actor=STAFF, now=NOW)
    service.mark_queued(session, inquiry_id=inquiry_id, actor="job:send_mail", now=NOW)
    service.mark_sent(session, inquiry_id=inquiry_id, actor="job:send_mail", now=NOW)
    later = NOW + timedelta(days=10)
    service.record_answer(session, item_id=proposed[lea.id].id, outcome="declined_unsuitable", actor=STAFF, now=later)
    service.record_answer(session, item_id=proposed[tom.id].id, outcome="accepted", actor=STAFF, now=later)

    frame = training_frame(session)

    assert sorted(frame["outcome"]) == [ItemOutcome.ACCEPTED.value, ItemOutcome.DECLINED_UNSUITABLE.value]
    assert dict(zip(frame["item_id"], frame["label"], strict=True)) == {proposed[lea.id].id: 0, proposed[tom.id].id: 1}
    for search, item in proposed.items():
        row = frame[frame["item_id"] == item.id].iloc[0]
        expected = pd.Series(stored[search], dtype=float)[list(FEATURE_COLUMNS)]
        pd.testing.assert_series_equal(row[list(FEATURE_COLUMNS)].astype(float), expected, check_names=False)
    # the live features of the same pair did change: the frame really is the proposal-time copy
    today = (later + timedelta(days=3)).date()
    snapshot = load_snapshot(session, now=later + timedelta(days=3), today=today)
    s = int(np.flatnonzero(snapshot.searches["search_id"].to_numpy() == lea.id)[0])
    t = int(np.flatnonzero(snapshot.therapists["therapist_id"].to_numpy() == kraus.id)[0])
    live = build_features(snapshot, np.array([s]), np.array([t]), np.array([2.0])).iloc[0]
    assert live["items_answered"] == 2
    assert stored[lea.id]["items_answered"] == 0
    assert frame.set_index("item_id").loc[proposed[lea.id].id, "items_answered"] == 0


def send(session, inquiry_id):
    service.approve(session, inquiry_id=inquiry_id, actor=STAFF, now=NOW)
    service.mark_queued(session, inquiry_id=inquiry_id, actor="job:send_mail", now=NOW)
    service.mark_sent(session, inquiry_id=inquiry_id, actor="job:send_mail", now=NOW)


def test_training_frame__leaves_out_withdrawn_pending_and_hand_added_items(session):
    kraus, lang = therapist(session, "Kraus"), therapist(session, "Lang")
    searching_patient(session, "Beispiel")
    service.scheduled_run(session, now=NOW, seed=1, settings=SETTINGS)
    items = {i.inquiry.therapist_id: i for i in session.scalars(select(InquiryItem))}
    assert set(items) == {kraus.id, lang.id}
    assert training_frame(session).empty  # proposed, not answered: no label yet
    for item in items.values():
        send(session, item.inquiry_id)
    service.record_answer(session, item_id=items[kraus.id].id, outcome="accepted", actor=STAFF, now=NOW)
    assert items[lang.id].outcome == ItemOutcome.WITHDRAWN
    by_hand = sent(session, therapist(session, "Ohne"), [searching_patient(session, "Muster")])  # no features
    service.record_answer(session, item_id=by_hand.items[0].id, outcome="declined_capacity", actor=STAFF, now=NOW)

    assert training_frame(session)["item_id"].tolist() == [items[kraus.id].id]


def test_training_frame__reads_every_stored_item_as_it_was_stored(session):
    """The COPY fast path against the definition: each answered item's own columns, read through the ORM."""
    from tests.support.learned_world import answered_history

    answered_history(session, rows=240, seed=3)
    frame = training_frame(session).set_index("item_id")
    items = session.scalars(select(InquiryItem).order_by(InquiryItem.created_at, InquiryItem.id)).all()
    assert frame.index.tolist() == [item.id for item in items]
    for item in items:
        row = frame.loc[item.id]
        for column in FEATURE_COLUMNS:
            stored = item.features[column]
            assert np.isnan(row[column]) if stored is None else row[column] == stored, (item.id, column)
        assert row["proposed_at"] == pd.Timestamp(item.created_at)
        assert (row["outcome"], row["label"]) == (str(item.outcome), int(item.outcome == ItemOutcome.ACCEPTED))
        assert (row["is_exploration"], row["model_name"], row["score"]) == (
            item.is_exploration, item.model_name, item.score)  # fmt: skip
        assert np.isnan(row["selection_probability"]) if item.selection_probability is None else (
            row["selection_probability"] == item.selection_probability)  # fmt: skip
