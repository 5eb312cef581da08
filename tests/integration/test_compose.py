"""docker-compose.yml matches what the code reads: services, commands, settings, ports, secrets.

No Docker engine runs the tests, so the stack is checked by reading its files: the compose file is
read as compose would read it (``${VAR:-default}`` -> default, ``${VAR:?message}`` -> a sample value)
and its environment is fed to ``core.config.load_settings``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from core.config import REPO_ROOT, Settings, load_settings

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
STACK = {"postgres", "pgbouncer", "mailpit", "migrate", "app", "scheduler"}
OUR_SERVICES = ["app", "scheduler", "migrate"]  # run our code, so their environment is core.config's
SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD"}  # in .env.example for compose; the code never reads it

# Settings whose default cannot work in the compose deployment, so compose must give them.
REQUIRED_IN_COMPOSE = {
    "DATABASE_URL",  # unset = an embedded Postgres inside each container instead of the shared one
    "SECRET_KEY",  # unset = generated into the data volume: lost with it, raced by containers starting together
    "SMTP_HOST",  # the default 127.0.0.1 is the container itself, where no mail server listens
    "SMTP_PORT",  # the mail catcher's port inside the stack
    "DATA_DIR",  # must be the mounted volume, or state vanishes with the container
}
ENTRY_FILES = {"app": "dashboards/server.py", "scheduler": "jobs/scheduler.py", "migrate": "jobs/migrate.py"}

# What an operator's .env supplies for ${VAR:?message}, which has no default.
SAMPLE_VALUES = {
    "SECRET_KEY": "synthetic-secret-key-for-tests-only-0123456789abcdef",
    "POSTGRES_PASSWORD": "synthetic-db-password",
}
INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
REQUIRED_INTERPOLATION = re.compile(r"\$\{\w+:\?[^}]*\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN")


def interpolate(value: str) -> str:
    """Return ``value`` as compose would pass it on, with samples for variables that have no default."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        if match["op"] in {"-", ":-"}:
            return match["arg"]
        if match["name"] not in SAMPLE_VALUES:
            pytest.fail(f"${{{match['name']}}} has no default in docker-compose.yml; add a sample to SAMPLE_VALUES")
        return SAMPLE_VALUES[match["name"]]

    return INTERPOLATION.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """Return a service's environment as written (compose allows a mapping or a list of KEY=VALUE)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def option(cmd: list[str], name: str) -> str:
    """Return the value of ``--name value`` or ``--name=value`` in a command line."""
    for i, part in enumerate(cmd):
        if part == name:
            return cmd[i + 1]
        if part.startswith(f"{name}="):
            return part.split("=", 1)[1]
    pytest.fail(f"{shlex.join(cmd)!r} has no {name}")


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Return target -> condition (compose allows a list, which means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def published_ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """Return (host port, container port) for each published port of a service."""
    pairs = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.append((int(interpolate(str(entry["published"]))), int(entry["target"])))
            continue
        parts = interpolate(str(entry)).split("/")[0].split(":")
        if len(parts) >= 2:  # a bare container port gets a random host port and cannot clash
            pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def entry_file(cmd: list[str]) -> Path:
    """Return the repo file a ``python -m X`` or ``streamlit run P`` command starts."""
    if cmd[:2] == ["python", "-m"]:
        module = REPO_ROOT / Path(*cmd[2].split("."))
        package_main = module / "__main__.py"
        return package_main if package_main.exists() else module.with_suffix(".py")
    if cmd[:2] == ["streamlit", "run"]:
        return REPO_ROOT / cmd[2]
    pytest.fail(f"{shlex.join(cmd)!r} is neither `python -m <module>` nor `streamlit run <file>`")


def env_example_variables() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs if not name.lstrip().startswith("#")}


def test_compose__is_yaml_with_every_service_of_the_stack(services):
    assert set(services) >= STACK
    for name in STACK:
        assert "profiles" not in services[name], f"{name} must start with a plain `docker compose up`"
    for name in set(services) - STACK:
        assert services[name].get("profiles"), f"{name} is not part of the stack and must sit under a profile"
    if "kafka" in services:
        assert "kafka" in services["kafka"]["profiles"]


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_compose__command_starts_a_file_that_exists(services, name):
    cmd = command(services[name])
    path = entry_file(cmd)
    assert path == REPO_ROOT / ENTRY_FILES[name]
    assert path.is_file(), f"service {name} runs {shlex.join(cmd)!r}, but {path.relative_to(REPO_ROOT)} is missing"


def test_compose__dockerfile_runs_the_app_by_default(services):
    cmd_lines = [line for line in (REPO_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    assert len(cmd_lines) == 1
    assert json.loads(cmd_lines[0].removeprefix("CMD ")) == command(services["app"])


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_compose__gives_every_setting_the_deployment_requires(services, name):
    assert REQUIRED_IN_COMPOSE <= SETTINGS_VARIABLES, "a required setting was renamed in core.config"
    assert REQUIRED_IN_COMPOSE - set(environment(services[name])) == set()


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_compose__sets_only_variables_that_settings_reads(services, name):
    assert set(environment(services[name])) - SETTINGS_VARIABLES == set()


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_compose__settings_accept_the_environment(services, name, monkeypatch, tmp_path):
    for variable in SETTINGS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer's .env in the way
    env = {key: interpolate(value) for key, value in environment(services[name]).items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    settings = load_settings()

    assert settings.database_url == env["DATABASE_URL"]
    assert settings.secret_key == SAMPLE_VALUES["SECRET_KEY"]
    assert (settings.smtp_host, settings.smtp_port) == ("mailpit", 1025)
    assert settings.data_dir == Path("/app/data")


def test_compose__app_uses_pgbouncer(services):
    bouncer = environment(services["pgbouncer"])
    url = urlsplit(interpolate(environment(services["app"])["DATABASE_URL"]))
    assert bouncer["POOL_MODE"] == "transaction"
    assert (url.hostname, url.port) == ("pgbouncer", int(bouncer["LISTEN_PORT"]))
    assert (url.username, url.password) == (bouncer["DB_USER"], interpolate(bouncer["DB_PASSWORD"]))
    assert url.path.strip("/") == bouncer["DB_NAME"]
    assert bouncer["DB_HOST"] == "postgres"
    assert depends_on(services["app"]).get("pgbouncer") == "service_healthy"


@pytest.mark.parametrize("name", ["scheduler", "migrate"])
def test_compose__jobs_connect_to_postgres_directly(services, name):
    # Job and migration locks are session-level advisory locks; transaction pooling would lose them.
    postgres = environment(services["postgres"])
    url = urlsplit(interpolate(environment(services[name])["DATABASE_URL"]))
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert (url.username, url.password) == (postgres["POSTGRES_USER"], interpolate(postgres["POSTGRES_PASSWORD"]))
    assert url.path.strip("/") == postgres["POSTGRES_DB"]


def test_compose__explains_why_jobs_bypass_pgbouncer():
    comments = [line for line in COMPOSE_FILE.read_text().splitlines() if line.strip().startswith("#")]
    assert any("advisory lock" in line for line in comments)
    assert any("transaction pooling" in line for line in comments)


def test_compose__depends_on_targets_exist(services):
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert condition in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy: no healthcheck"
            if services[target].get("profiles"):
                assert services[target]["profiles"] == service.get("profiles"), f"{name} needs optional {target}"


def test_compose__migrate_runs_before_app_and_scheduler(services):
    assert depends_on(services["migrate"]).get("postgres") == "service_healthy"
    for name in ["app", "scheduler"]:
        assert depends_on(services[name]).get("migrate") == "service_completed_successfully"


def test_compose__host_ports_are_unique(services):
    host_ports = [host for service in services.values() for host, _ in published_ports(service)]
    assert host_ports
    assert len(host_ports) == len(set(host_ports)), f"a host port is published twice: {sorted(host_ports)}"


def test_compose__app_port_matches_its_app_port(services):
    app = services["app"]
    env = {key: interpolate(value) for key, value in environment(app).items()}
    cmd = command(app)
    assert [container for _, container in published_ports(app)] == [int(env["APP_PORT"])]
    assert option(cmd, "--server.port") == env["APP_PORT"]
    # 127.0.0.1 inside a container is unreachable through the published port.
    assert option(cmd, "--server.address") == env["APP_HOST"] == "0.0.0.0"  # noqa: S104 - must listen on all


def test_compose__postgres_keeps_its_data_in_a_volume(compose, services):
    postgres = services["postgres"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    # From PostgreSQL 18 the image keeps PGDATA in /var/lib/postgresql/18/docker; a mount at the old
    # /var/lib/postgresql/data makes the container refuse to start.
    sources = [v.split(":")[0] for v in postgres["volumes"] if v.split(":")[1] == "/var/lib/postgresql"]
    assert sources
    assert sources[0] in compose["volumes"]


def test_compose__named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts volume {source}, which is not declared"


def test_compose__has_no_literal_secrets(services):
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_INTERPOLATION.fullmatch(value), f"{name}: {key} must be ${{{key}:?...}} from .env"
            password = urlsplit(value).password if "://" in value else None
            if password:
                assert REQUIRED_INTERPOLATION.fullmatch(password), f"{name}: the password in {key} must come from .env"


def test_compose__env_example_lists_every_setting():
    listed = env_example_variables()
    assert SETTINGS_VARIABLES - set(listed) == set()
    assert set(listed) - SETTINGS_VARIABLES - COMPOSE_ONLY_VARIABLES == set()
    interpolated = {match["name"] for match in INTERPOLATION.finditer(COMPOSE_FILE.read_text()) if match["name"]}
    assert interpolated - set(listed) == set()
    for key, value in listed.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example must not carry a value for {key}"


def test_compose__env_example_is_accepted_by_settings(monkeypatch, tmp_path):
    for variable in SETTINGS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    monkeypatch.chdir(tmp_path)

    settings = load_settings()

    assert settings.database_url is None  # the embedded Postgres
    assert (settings.language, settings.timezone) == ("de", "Europe/Berlin")


def test_compose__image_excludes_secrets_and_local_state():
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", "data/*"} <= ignored
