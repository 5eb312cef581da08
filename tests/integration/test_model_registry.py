"""Model registry on real PostgreSQL and real files: train, guard the artifact, activate, roll back."""

import logging
import pickle
import stat
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.config import load_settings
from core.errors import ModelRefused, ValidationError
from core.matching import service as matching
from core.matching.learned import LearnedModel, fit_learned_model
from core.matching.models import Inquiry, InquiryItem, InquiryStatus
from core.matching.score import FEATURE_COLUMNS, PriorModel
from core.models_registry import service
from tests.support.learned_world import answered_history, world
from tests.support.matching import NOW, searching_patient, therapist

ADMIN = "admin@example.org"


@pytest.fixture
def settings(tmp_path):
    return load_settings(data_dir=tmp_path, match_model="learned", match_exploration_share=0.05)


def test_train__with_too_little_data_says_so_and_keeps_the_prior(session, settings):
    answered_history(session, rows=120)
    counts = service.train(session, now=NOW, settings=settings)
    assert counts["status"] == "too_little_data"
    assert "need at least 500 rows" in counts["reason"]
    assert service.list_versions(session) == []
    assert isinstance(service.active_model(session, settings=settings), PriorModel)
    assert not (settings.data_dir / "models").exists()


@pytest.fixture
def trained(session, settings):
    answered_history(session, rows=3_000)
    return service.train(session, now=NOW, settings=settings, seed=1)


def test_train__registers_a_versioned_artifact_with_its_checksum_and_metrics(session, settings, trained):
    assert trained["status"] == "trained"
    [row] = service.list_versions(session)
    assert row.version == 1
    assert row.name == "learned-v1"
    assert row.train_rows + row.test_rows == 3_000
    assert row.window_start < row.test_start <= row.window_end
    assert row.features == list(FEATURE_COLUMNS)
    assert row.library_versions == service.library_versions()
    path = settings.data_dir / row.artifact_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert service._sha256(path.read_bytes()) == row.artifact_sha256
    learned, prior = row.metrics["learned"], row.metrics["prior"]
    assert learned["log_loss"] < prior["log_loss"]  # the prior was not tuned to this world
    assert len(learned["calibration"]) == 10
    assert {"learned", "prior", "logged", "exploration_items"} <= set(row.metrics["off_policy"])
    low, high = row.metrics["off_policy"]["learned"]["low"], row.metrics["off_policy"]["learned"]["high"]
    assert low <= row.metrics["off_policy"]["learned"]["offers_per_100"] <= high
    assert not row.is_active  # training never activates
    assert isinstance(service.load(row, settings=settings), LearnedModel)


def test_train__dry_run_writes_nothing(session, settings):
    answered_history(session, rows=1_200)
    counts = service.train(session, now=NOW, settings=settings, dry_run=True)
    assert counts["status"] == "trained"
    assert service.list_versions(session) == []
    assert not (settings.data_dir / "models").exists()


def test_load__refuses_a_tampered_artifact_and_the_pipeline_falls_back_to_the_prior(session, settings, trained, caplog):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    row = service.get(session, version=1)
    path = settings.data_dir / row.artifact_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelRefused, match="the file was changed"):
        service.load(row, settings=settings)
    with caplog.at_level(logging.WARNING):
        model = service.active_model(session, settings=settings)
    assert isinstance(model, PriorModel)
    assert "Scoring with the prior instead" in caplog.text


def test_load__refuses_an_artifact_from_other_library_versions(session, settings, trained):
    row = service.get(session, version=1)
    row.library_versions = {**row.library_versions, "scikit-learn": "0.24.2"}
    with pytest.raises(ModelRefused, match=r"scikit-learn 0.24.2 \(now "):
        service.load(row, settings=settings)


def test_active_model__is_the_prior_unless_match_model_says_learned(session, settings, trained):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    assert service.active_model(session, settings=settings).name == "learned-v1"
    prior_setting = load_settings(data_dir=settings.data_dir, match_model="prior")
    assert isinstance(service.active_model(session, settings=prior_setting), PriorModel)


def worse_version(session, settings) -> int:
    """Register version 2 as a model trained on shuffled labels (it learned nothing)."""
    service.train(session, now=NOW + timedelta(minutes=1), settings=settings, seed=2)
    row = service.get(session, version=2)
    features, labels, _ = world(2_000, seed=5)
    noise = fit_learned_model(features, np.random.default_rng(0).permutation(labels), name="learned-v2")
    data = pickle.dumps(noise)
    service._write_artifact(settings.data_dir / row.artifact_path, data)
    row.artifact_sha256 = service._sha256(data)
    return row.version


def test_activate__refuses_a_worse_model_without_a_reason(session, settings, trained):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    worse = worse_version(session, settings)
    with pytest.raises(ValidationError, match=r"does not beat the active model.*Give a reason"):
        service.activate(session, version=worse, actor=ADMIN, now=NOW, settings=settings)
    assert service.get_active(session).version == 1  # nothing changed
    service.activate(session, version=worse, actor=ADMIN, now=NOW, reason="Vergleich im Pilotbezirk", settings=settings)
    assert service.get_active(session).version == worse
    assert service.get_active(session).activation_reason == "Vergleich im Pilotbezirk"


def test_activate__a_better_model_needs_no_reason_and_is_audited(session, settings, trained):
    row = service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    assert row.is_active
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "match_model.activated")).all()
    assert event.details["beats_active"] is True
    assert event.details["replaced"] == "prior-v1"


def test_rollback__is_one_step_back_to_the_previous_model_then_the_prior(session, settings, trained):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    worse = worse_version(session, settings)
    service.activate(session, version=worse, actor=ADMIN, now=NOW, reason="Test", settings=settings)
    assert service.rollback(session, actor=ADMIN, now=NOW) == "learned-v1"
    assert service.get_active(session).version == 1
    assert service.rollback(session, actor=ADMIN, now=NOW) == "prior-v1"
    assert service.get_active(session) is None
    with pytest.raises(ValidationError, match="nothing to roll back"):
        service.rollback(session, actor=ADMIN, now=NOW)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("match_model.%"))).all()
    assert actions.count("match_model.rolled_back") == 2


def test_pipeline__scores_with_the_active_version_and_stores_its_name(session, settings, trained):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    therapist(session, "Neu")
    searching_patient(session, "Neumann")
    counts = matching.scheduled_run(session, now=NOW, seed=1, settings=settings)
    assert counts["model"] == "learned-v1"
    proposed = session.scalars(select(InquiryItem).join(Inquiry).where(Inquiry.status == InquiryStatus.PROPOSED)).all()
    assert proposed
    assert {(i.model_name, i.model_version) for i in proposed} == {("learned-v1", 1)}
    assert all(i.factors and set(i.features) == set(FEATURE_COLUMNS) for i in proposed)


def test_activate__replaces_an_active_version_whose_artifact_is_refused(session, settings, trained):
    service.activate(session, version=1, actor=ADMIN, now=NOW, settings=settings)
    worse = worse_version(session, settings)
    broken = settings.data_dir / service.get(session, version=1).artifact_path
    broken.write_bytes(b"not the model")
    # what scores now is the prior (the pipeline falls back to it), so the new version is compared with the prior
    service.activate(session, version=worse, actor=ADMIN, now=NOW, reason="v1 kaputt", settings=settings)
    assert service.get_active(session).version == worse
