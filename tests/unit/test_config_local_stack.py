"""Settings of the local stack agree with each other: mail reaches the catcher, links reach the app."""

import pytest

from core.config import Settings, load_settings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the repo


def test_mail_catcher_port__alone_moves_outgoing_mail_with_it(clean_env, monkeypatch):
    monkeypatch.setenv("MAIL_CATCHER_PORT", "2525")
    settings = load_settings()
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 2525)


def test_smtp_port__set_on_purpose_wins_over_the_catcher_port(clean_env, monkeypatch):
    monkeypatch.setenv("MAIL_CATCHER_PORT", "2525")
    monkeypatch.setenv("SMTP_PORT", "587")
    assert load_settings().smtp_port == 587


def test_smtp_port__empty_like_in_env_example_means_the_catcher(clean_env, monkeypatch):
    monkeypatch.setenv("SMTP_PORT", "")
    assert load_settings().smtp_port == 1025


def test_app_port__alone_moves_the_answer_links_with_it(clean_env, monkeypatch):
    monkeypatch.setenv("APP_PORT", "8600")
    assert load_settings().public_base_url == "http://localhost:8600"


def test_public_base_url__set_on_purpose_wins(clean_env, monkeypatch):
    monkeypatch.setenv("APP_PORT", "8600")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://vermittlung.example.org/")
    assert load_settings().public_base_url == "https://vermittlung.example.org"


def test_defaults__are_unchanged(clean_env):
    settings = load_settings()
    assert (settings.smtp_port, settings.public_base_url) == (1025, "http://localhost:8501")
