"""`make run` from a user's point of view: serves the login in time, Ctrl-C leaves nothing, data survives."""

import os

import psycopg2
import pytest

from tests.e2e.conftest import login, screenshot
from tests.e2e.stack import RunningStack, alive
from tests.support.postgres import TcpPostgres, free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
READY_WITHIN_SECONDS = 60  # the promise to a new user, a deadline rather than a benchmark


def stack_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    mail_port = str(free_port())
    env.update(DATA_DIR=str(tmp_path / "data"), APP_PORT=str(free_port()), MAIL_CATCHER_PORT=mail_port,
               SMTP_PORT=mail_port, DEMO_DATA="1", **extra)  # fmt: skip
    return env


def count_rows(url: str, table: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def test_make_run__serves_login_stops_cleanly_and_keeps_data(repo_root, tmp_path, page):
    env = stack_env(tmp_path)
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=READY_WITHIN_SECONDS + 120)  # generous for the demo seed on a busy machine
        email, password = stack.login()
        pids = stack.pids()
        assert {"runner", "postgres", "mail_catcher", "scheduler", "streamlit"} <= set(pids)
        db_url = f"postgresql://postgres@/placement?host={tmp_path / 'data' / 'postgres'}"
        therapists = count_rows(db_url, "therapist")
        assert therapists == 3000  # the default demo size

        login(page, f"http://127.0.0.1:{env['APP_PORT']}/status", email, password)
        page.get_by_role("heading", name="Systemstatus").wait_for(timeout=30_000)
        page.get_by_text("erreichbar", exact=True).wait_for()
        page.get_by_text("eingebettet", exact=True).wait_for()
        page.locator("table").get_by_text("3000", exact=True).first.wait_for()  # the demo row counts
        screenshot(page, "make-run-status")
        assert page.outside_requests == []

        # make re-raises the SIGINT it received after its child exits: -2 is "ended by Ctrl-C", as in a shell
        assert stack.interrupt() in {0, -2, 130}
        for name, pid in pids.items():
            wait_for(lambda pid=pid: not alive(pid), timeout=15, what=f"{name} (pid {pid}) to exit")
        assert "stopped; the data stays in" in stack.output
        assert "Traceback" not in stack.output  # an atexit handler used to end every Ctrl-C with a KeyError
        assert not (tmp_path / "data" / "run.json").exists()
    finally:
        stack.kill()

    again = RunningStack(repo_root, env)
    try:
        again.wait_ready(timeout=READY_WITHIN_SECONDS)
        assert "loading demo data" not in again.output  # the data was found, not re-created
        assert password not in again.output  # shown once, on the start that created it
        login_file = tmp_path / "data" / "demo-login.txt"
        assert f"Login: {email} (password in {login_file}, readable only by you)" in again.output
        assert login_file.read_text().split() == [email, password]
        assert count_rows(db_url, "therapist") == therapists
        pids = again.pids()
        again.interrupt()
        for name, pid in pids.items():
            wait_for(lambda pid=pid: not alive(pid), timeout=15, what=f"{name} (pid {pid}) to exit")
    finally:
        again.kill()


def test_make_run__uses_database_url_and_starts_no_embedded_server(repo_root, tmp_path):
    server = TcpPostgres(tmp_path / "pg")
    server.start()
    try:
        from core.db.embedded import ensure_database

        ensure_database(server.url(), "placement_external")
        env = stack_env(tmp_path, DATABASE_URL=server.url("placement_external"), DEMO_THERAPISTS="40",
                        DEMO_PATIENTS="15")  # fmt: skip
        stack = RunningStack(repo_root, env)
        try:
            stack.wait_ready(timeout=READY_WITHIN_SECONDS)
            assert "PostgreSQL: DATABASE_URL (own server; the embedded one is not started)" in stack.output
            assert "postgres" not in stack.pids()
            assert not (tmp_path / "data" / "postgres").exists()
            assert count_rows(server.url("placement_external"), "therapist") == 40
            assert count_rows(server.url("placement_external"), "staff_user") == 1
            stack.interrupt()
        finally:
            stack.kill()
        # we did not start that server, so we must not have stopped it either
        assert count_rows(server.url("placement_external"), "therapist") == 40
    finally:
        server.stop()
