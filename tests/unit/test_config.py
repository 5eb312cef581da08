"""Settings: defaults work, and every wrong value fails fast with one line naming the variable."""

import subprocess
import sys

import pytest

from core.config import EXAMPLES, Settings, describe_settings, load_settings
from core.errors import ConfigError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the repo


def test_defaults__need_no_configuration(clean_env):
    settings = load_settings()
    assert settings.database_url is None  # embedded server
    assert (settings.app_port, settings.language, settings.timezone) == (8501, "de", "Europe/Berlin")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("APP_PORT", "abc", "Setting APP_PORT: 'abc' is not valid"),  # not a number
        ("APP_PORT", "70000", "Setting APP_PORT: 70000 is not a port number"),  # out of range
        ("SMTP_PORT", "0", "Setting SMTP_PORT: 0 is not a port number"),  # zero
        ("DATABASE_URL", "mysql://u@h/db", "Setting DATABASE_URL: 'mysql://u@h/db' is not a PostgreSQL URL"),
        ("DATABASE_URL", "postgresql://u@h:5432", "names no database"),  # forgot the database
        ("DATABASE_URL", "postgresql://u:pw@h:port/db", "has a port that is not a number"),  # malformed port
        ("LANGUAGE", "fr", "Setting LANGUAGE: 'fr' is not valid"),  # only de / en
        ("TIMEZONE", "Berlin", "Setting TIMEZONE: 'Berlin' is not an IANA timezone name"),
        ("JOB_SCHEDULES", "{heartbeat: 5}", "Setting JOB_SCHEDULES: not valid JSON"),
        ("DEMO_PATIENTS", "-3", "Setting DEMO_PATIENTS: -3 must not be negative"),
        ("SESSION_TIMEOUT_MINUTES", "0", "must be a positive number of minutes"),
        ("SMTP_SECURITY", "tls", "Setting SMTP_SECURITY: 'tls' is not valid"),
    ],
)
def test_bad_setting__one_line_naming_variable_and_example(clean_env, monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert expected in message
    assert "\n" not in message
    assert f"use e.g. {variable}=" in message


def test_bad_setting__password_never_echoed(clean_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://user:hunter2secret@h/db")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "hunter2secret" not in str(error.value)


def test_bad_setting__job_cli_exits_2_with_the_message(repo_root, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "APP_PORT": "eighty", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "jobs.run_job", "--list"], cwd=repo_root, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: Setting APP_PORT: 'eighty' is not valid")
    assert "Traceback" not in result.stderr


def test_describe_settings__every_variable_has_an_example_and_description():
    rows = describe_settings()
    assert {row["variable"] for row in rows} <= set(EXAMPLES)
    assert all(row["description"] for row in rows)
