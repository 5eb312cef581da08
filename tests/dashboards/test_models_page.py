"""Model page: managers see versions with metrics, calibration and effects; admins activate and roll back."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.config import get_settings
from core.models_registry import service
from tests.dashboards.conftest import open_page, texts
from tests.support.learned_world import answered_history


@pytest.fixture
def trained(committed_db):
    now = datetime.now(UTC)
    with Session(committed_db) as session:
        answered_history(session, rows=1_500, now=now)
        counts = service.train(session, now=now, settings=get_settings())
        session.commit()
    return counts


def test_models_page__admin_activates_a_better_version_and_rolls_back(repo_root, committed_db, trained):
    at = open_page(repo_root, "models.py", user_id=0, email="admin@example.org", role="admin")
    assert not at.exception
    assert "Aktiv: die Vorannahme (prior-v1)" in texts(at)
    table = at.dataframe[0].value
    assert list(table["Version"]) == ["learned-v1"]
    assert "Kalibrierung nach Dezilen (Testdaten)" in texts(at)
    next(b for b in at.button if b.label == "Version aktivieren").click()
    at.run()
    assert "learned-v1 ist aktiv." in texts(at)
    at.button(key="models_rollback").click()
    at.run()
    assert "Zurückgesetzt: prior-v1 ist aktiv." in texts(at)
    with Session(committed_db) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("match_model.%"))).all()
    assert sorted(actions) == ["match_model.activated", "match_model.rolled_back", "match_model.trained"]


def test_models_page__managers_see_versions_but_cannot_activate(repo_root, trained):
    at = open_page(repo_root, "models.py", user_id=0, email="manager@example.org", role="manager")
    assert not at.exception
    assert list(at.dataframe[0].value["Version"]) == ["learned-v1"]
    assert "Aktivieren und Zurücksetzen dürfen nur Admins." in texts(at)
    assert not [b for b in at.button if b.label == "Version aktivieren"]


def test_models_page__staff_are_turned_away(repo_root, committed_db):
    at = open_page(repo_root, "models.py", user_id=0, email="sam@example.org", role="staff")
    assert "darf diese Seite nicht öffnen" in texts(at)
    assert not at.dataframe
