"""`make run` as a supervisor: survives a database crash, a killed runner and stale state; keeps data private."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psutil
import pytest

from core.db import embedded
from tests.e2e.stack import RunningStack, alive
from tests.support.postgres import free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
START_TIMEOUT = 180  # a start seeds a small demo data set and imports the app on a busy machine


def small_stack_env(tmp_path, **extra) -> dict[str, str]:
    """Like a user who sets only the two ports: SMTP_PORT and PUBLIC_BASE_URL are left to follow them."""
    drop = {"DATABASE_URL", "SMTP_PORT", "SMTP_HOST", "PUBLIC_BASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DATA_DIR=str(tmp_path / "data"), APP_PORT=str(free_port()), MAIL_CATCHER_PORT=str(free_port()),
               DEMO_DATA="1", DEMO_THERAPISTS="40", DEMO_PATIENTS="15", **extra)  # fmt: skip
    return env


def healthz(port: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class HealthWatch:
    """Ask /healthz every 50 ms in the background and keep every answer that differs from the last."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.seen: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + 120  # bounded: it stops by itself
        while not self.done.is_set() and time.monotonic() < deadline:
            status = healthz(self.port)
            if not self.seen or self.seen[-1] != status:
                self.seen.append(status)
            time.sleep(0.05)

    def stop(self) -> list[int]:
        self.done.set()
        self.thread.join(timeout=10)
        return self.seen


def postmaster(data_dir) -> psutil.Process:
    pid = int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    return psutil.Process(pid)


def wait_all_gone(pids: dict[str, int]) -> None:
    for name, pid in pids.items():
        if isinstance(pid, int):
            # a child shuts down gracefully on its parent-death signal; a loaded CI machine needed more than 30 s
            wait_for(lambda pid=pid: not alive(pid), timeout=90, what=f"{name} (pid {pid}) to exit")


def test_make_run__recovers_from_a_database_crash_without_hand_work(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    data_dir = tmp_path / "data"
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        assert healthz(env["APP_PORT"]) == 200
        watch = HealthWatch(env["APP_PORT"])
        crashed = postmaster(data_dir)

        crashed.kill()  # PostgreSQL dies under the running stack

        wait_for(lambda: "PostgreSQL (embedded) is running again" in stack.output, timeout=90,
                 what=f"the runner to restart PostgreSQL:\n{stack.output}")  # fmt: skip
        wait_for(lambda: healthz(env["APP_PORT"]) == 200, timeout=30, what="the app to be healthy again")
        seen = watch.stop()
        assert 503 in seen, seen  # while it was down, the health endpoint said so
        assert seen[-1] == 200
        assert "error: PostgreSQL (embedded) has stopped" in stack.output
        assert "PostgreSQL (embedded) has stopped" in (data_dir / "logs" / "run.log").read_text()
        assert "unhealthy: database not reachable" in (data_dir / "logs" / "streamlit.log").read_text()
        assert postmaster(data_dir).pid != crashed.pid
        assert stack.pids()["postgres"] == postmaster(data_dir).pid

        # a second crash and Ctrl-C right after it: a clean stop, no traceback, no stale run.json
        pids = stack.pids()
        postmaster(data_dir).kill()
        assert stack.interrupt() in {0, -2, 130}
        wait_all_gone({k: v for k, v in pids.items() if k != "postgres"})
        assert "Traceback" not in stack.output, stack.output
        assert "stopped; the data stays in" in stack.output
        assert not (data_dir / "run.json").exists()
        wait_for(lambda: not embedded.running(data_dir), timeout=30, what="PostgreSQL to be stopped")
    finally:
        stack.kill()


def test_make_run__restarts_a_child_that_dies(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        scheduler = stack.pids()["scheduler"]
        os.kill(scheduler, signal.SIGKILL)
        wait_for(lambda: "scheduler restarted" in stack.output, timeout=60, what=f"a restart:\n{stack.output}")
        assert "error: scheduler exited with code -9; restarting it in 1 s" in stack.output
        wait_for(lambda: stack.pids()["scheduler"] != scheduler, timeout=10, what="run.json to name the new pid")
        assert alive(stack.pids()["scheduler"])
        stack.interrupt()
        assert "Traceback" not in stack.output
    finally:
        stack.kill()


def test_make_run__sigkill_of_the_runner_leaves_no_orphans_and_the_next_start_is_clean(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        pids = stack.pids()
        os.kill(pids["runner"], signal.SIGKILL)
        wait_all_gone({k: v for k, v in pids.items() if k in {"mail_catcher", "scheduler", "streamlit"}})
        stack.proc.wait(timeout=30)  # make ends with its child; PostgreSQL, shared, keeps running
    except BaseException:
        stack.kill()
        raise

    again = RunningStack(repo_root, env)
    try:
        again.wait_ready(timeout=START_TIMEOUT)
        new = again.pids()
        assert new["streamlit"] != pids["streamlit"]
        assert healthz(env["APP_PORT"]) == 200
        again.interrupt()
        wait_all_gone(new)
        assert "Traceback" not in again.output
    finally:
        again.kill()


def test_make_run__stops_what_a_killed_runner_left_and_never_reports_ready_off_it(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # an app server left behind by a runner killed before it could stop it, still holding the port
    stale = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboards/server.py", "--server.port", env["APP_PORT"],
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    gone = subprocess.Popen(["true"])
    gone.wait()
    (data_dir / "run.json").write_text(json.dumps({"runner": gone.pid, "streamlit": stale.pid}))
    stack = None
    try:
        wait_for(lambda: healthz(env["APP_PORT"]) != 0, timeout=90, what="the stale app to listen")
        stack = RunningStack(repo_root, env)
        stack.wait_ready(timeout=START_TIMEOUT)
        assert stale.poll() is not None, "the stale app still runs"
        assert f"stopped what an earlier run (pid {gone.pid}, killed) left behind: streamlit (pid {stale.pid})" \
            in stack.output  # fmt: skip
        assert stack.pids()["streamlit"] != stale.pid
        stack.interrupt()
    finally:
        if stale.poll() is None:
            stale.kill()
        if stack:
            stack.kill()


def test_make_run__refuses_a_port_another_program_holds(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    with socket.socket() as other:
        other.bind(("127.0.0.1", int(env["APP_PORT"])))
        other.listen()
        stack = RunningStack(repo_root, env)
        try:
            code = stack.proc.wait(timeout=120)
            stack.reader.join(timeout=5)
        finally:
            stack.kill()
    assert code != 0
    assert f"error: port {env['APP_PORT']} is already in use by another program" in stack.output
    assert "ready at" not in stack.output


def test_make_run__banner_tells_where_mail_and_answer_links_go(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        assert f"Mail: local mail catcher on 127.0.0.1:{env['MAIL_CATCHER_PORT']}" in stack.output
        assert f"Answer links: http://localhost:{env['APP_PORT']}" in stack.output
        assert "warning" not in stack.output
        stack.interrupt()
    finally:
        stack.kill()

    elsewhere = small_stack_env(tmp_path, SMTP_PORT=str(free_port()), PUBLIC_BASE_URL="http://localhost:9")
    stack = RunningStack(repo_root, elsewhere)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        assert f"warning: nothing listens on 127.0.0.1:{elsewhere['SMTP_PORT']}: mail stays queued" in stack.output
        assert f"the app runs on port {elsewhere['APP_PORT']}" in stack.output
        stack.interrupt()
    finally:
        stack.kill()


def test_make_run__keeps_everything_in_data_dir_private(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "logs").mkdir(mode=0o755)
    (data_dir / "logs" / "old.log").write_text("from an older version\n")
    (data_dir / "logs" / "old.log").chmod(0o644)
    stack = RunningStack(repo_root, env)
    try:
        stack.wait_ready(timeout=START_TIMEOUT)
        assert "Login: admin@example.org / " in stack.output  # the start that created it shows it once
        wrong = []
        for folder, dirs, files in os.walk(data_dir):
            for name in dirs:
                if os.path.islink(os.path.join(folder, name)):
                    continue  # a link's own mode is always 0777 on Linux; access goes by its target's (checked too)
                mode = stat.S_IMODE(os.lstat(os.path.join(folder, name)).st_mode)
                if mode != 0o700:
                    wrong.append(f"{os.path.join(folder, name)} {oct(mode)}")
            for name in files:
                info = os.lstat(os.path.join(folder, name))
                if stat.S_ISSOCK(info.st_mode):
                    continue  # PostgreSQL's socket, inside its 0700 folder
                if stat.S_IMODE(info.st_mode) != 0o600:
                    wrong.append(f"{os.path.join(folder, name)} {oct(stat.S_IMODE(info.st_mode))}")
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert wrong == []
        stack.interrupt()
    finally:
        stack.kill()


def test_make_run__a_second_start_on_the_same_data_refuses_and_leaves_the_first_alone(repo_root, tmp_path):
    env = small_stack_env(tmp_path)
    first = RunningStack(repo_root, env)
    try:
        first.wait_ready(timeout=START_TIMEOUT)
        pids = first.pids()
        second = RunningStack(repo_root, env)
        code = second.proc.wait(timeout=120)  # it must end by itself, without our help
        second.reader.join(timeout=5)
        assert code != 0
        assert f"make run is already running for {tmp_path / 'data'} (pid {pids['runner']})" in second.output
        assert first.pids() == pids  # its run.json is untouched
        assert healthz(env["APP_PORT"]) == 200  # and its database still runs under it
        first.interrupt()
    finally:
        first.kill()
