"""DATABASE_URL points everything at another PostgreSQL: the jobs and the test suite itself."""

import os
import subprocess
import sys

import psycopg2
import pytest

from tests.support.postgres import TcpPostgres

pytestmark = pytest.mark.slow


@pytest.fixture
def tcp_server(tmp_path):
    server = TcpPostgres(tmp_path / "pg")
    server.start("-c log_connections=on")
    yield server
    server.stop()


def test_jobs__use_database_url_and_start_no_embedded_server(repo_root, tmp_path, tcp_server):
    from core.db.embedded import ensure_database

    ensure_database(tcp_server.url(), "placement_jobs")
    env = {**os.environ, "DATABASE_URL": tcp_server.url("placement_jobs"), "DATA_DIR": str(tmp_path / "data"),
           "PASSWORD": "ein langes passwort"}  # fmt: skip
    for command in (["jobs.migrate"], ["jobs.create_user", "--email", "ext@example.org", "--role", "analyst"]):
        result = subprocess.run([sys.executable, "-m", *command], cwd=repo_root, env=env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
    with psycopg2.connect(tcp_server.url("placement_jobs")) as conn, conn.cursor() as cur:
        cur.execute("SELECT role FROM staff_user WHERE email = 'ext@example.org'")
        assert cur.fetchone() == ("analyst",)
        cur.execute("SELECT count(*) FROM postcode")
        assert cur.fetchone() == (8168,)
    assert not (tmp_path / "data" / "postgres").exists()


def test_test_suite__runs_against_database_url(repo_root, tmp_path, tcp_server):
    env = {**os.environ, "DATABASE_URL": tcp_server.url("postgres")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'inner'}",
         "tests/integration/test_schema.py"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    assert "database=workbench_test" in tcp_server.log()  # the suite connected to this server's test database
