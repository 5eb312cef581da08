"""With the database down, every page says so calmly (German first, English too) instead of a traceback."""

import pytest
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from tests.dashboards.conftest import APP, TIMEOUT, texts
from tests.support.postgres import free_port

CALM = "Datenbank nicht erreichbar"


@pytest.fixture
def database_down(monkeypatch):
    """Point the app at a port where no PostgreSQL listens (as after a crash of the server)."""
    from dashboards import data

    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/placement")
    get_settings.cache_clear()
    data.engine.clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    data.engine.clear()


def submit_login(repo_root, language: str = "de") -> AppTest:
    at = AppTest.from_file(str(repo_root / APP), default_timeout=TIMEOUT)
    at.session_state["language"] = language
    at.run()
    at.text_input(key="login_email").input("admin@example.org")
    at.text_input(key="login_password").input("irgendein passwort")
    at.button[0].click()
    return at.run()


def test_login__with_the_database_down_says_so_without_a_traceback(repo_root, database_down):
    at = submit_login(repo_root)

    assert not at.exception  # no raw OperationalError, no "Ask Google / Ask ChatGPT" buttons
    assert CALM in texts(at)
    assert "OperationalError" not in texts(at)


def test_login__with_the_database_down_says_so_in_english_too(repo_root, database_down):
    at = submit_login(repo_root, "en")
    assert not at.exception
    assert "Database not reachable" in texts(at)


def test_page__with_the_database_down_says_so_without_a_traceback(repo_root, database_down):
    from datetime import UTC, datetime

    from dashboards.components import login
    from dashboards.components.login import CurrentUser

    at = AppTest.from_file(str(repo_root / APP), default_timeout=TIMEOUT)
    at.session_state["user"] = CurrentUser(id=1, email="staff@example.org", name="staff", role="staff")
    at.session_state["last_seen"] = datetime.now(UTC)
    at.session_state[login.TOKEN] = "a-login-that-must-be-checked-against-the-database"
    at.switch_page("views/patients.py")
    at.run()

    assert not at.exception
    assert CALM in texts(at)
