"""SECRET_KEY: a short key is refused with a clear message; a generated key is one key, however many start at once."""

import threading

import pytest

from core.config import Settings, load_settings
from core.errors import ConfigError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the repo


@pytest.mark.parametrize("value", ["a", "x" * 31])
def test_secret_key__shorter_than_32_characters_is_refused(clean_env, monkeypatch, value):
    monkeypatch.setenv("SECRET_KEY", value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"Setting SECRET_KEY: has {len(value)} characters; use at least 32")
    assert f"{value!r}" not in message  # the key itself is never echoed
    assert "python -c" in message  # says how to make a good one


def test_secret_key__32_characters_are_accepted(clean_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert load_settings().resolved_secret_key() == "k" * 32


def test_generated_secret_key__concurrent_first_starts_agree_on_one_key(clean_env, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    starters = 16
    barrier = threading.Barrier(starters)
    keys: list[str] = []
    errors: list[BaseException] = []

    def first_start() -> None:
        barrier.wait()
        try:
            keys.append(settings.resolved_secret_key())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(keys) == starters
    assert len(set(keys)) == 1
    assert len(keys[0]) >= 32
    assert (tmp_path / "data" / "secret_key").read_text().strip() == keys[0]
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0  # only the owner may read it
