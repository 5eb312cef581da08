"""The processes ``make run`` owns (see jobs/serve.py): started, watched, restarted with backoff, stopped.

Not a job itself. What it guarantees:
- a child that dies (scheduler, mail catcher, app) is logged and restarted, waiting longer each time it
  keeps dying (RESTART_BACKOFF_SECONDS), so a crash loop does not eat the machine;
- the embedded PostgreSQL is watched too: when it dies it is logged and started again, nobody has to act;
- children die with the runner, even when the runner is killed with SIGKILL (PR_SET_PDEATHSIG), and a
  start that finds processes left behind by a killed runner (``run.json``) stops them before it begins.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from core import clock
from core.config import REPO_ROOT, Settings
from core.errors import WorkbenchError

STOP_GRACE_SECONDS = 10  # children get this long to exit after SIGTERM before they are killed
RESTART_BACKOFF_SECONDS = (1, 2, 5, 10, 30, 60)  # waits before restart n of a child that keeps dying
STABLE_AFTER_SECONDS = 120  # a child that ran this long before it died starts again from the shortest wait
DATABASE_CHECK_SECONDS = 1.0  # how often the runner looks whether the embedded server still runs
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# What a child's command line contains: a pid in run.json counts as ours only if its command line has this
# (after a reboot or a long time the same pid may belong to an unrelated program).
MARKERS = {"mail_catcher": "jobs.mail_catcher", "scheduler": "jobs.scheduler", "streamlit": "dashboards/server.py"}


def say(settings: Settings, message: str, *, error: bool = False) -> None:
    """Print one timestamped line for the terminal and append it to DATA_DIR/logs/run.log."""
    line = f"{clock.local(clock.now()):%H:%M:%S} {message}"
    print(line, file=sys.stderr if error else sys.stdout, flush=True)
    with contextlib.suppress(OSError), (settings.data_dir / "logs" / "run.log").open("a") as log:
        log.write(line + "\n")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to this child when the runner dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    log: object = field(default=None, repr=False)


class Supervisor:
    """Start children, restart the ones that die, keep the embedded server up, stop all in reverse order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children: dict[str, Child] = {}
        self.embedded = False
        self.database_down_since: float | None = None
        self.database_failures = 0
        self.database_retry_at = 0.0
        self.next_database_check = 0.0
        self.stopping = False
        self.owns_run_file = False  # never remove the run.json of another runner we refused to start beside

    # --- children ---------------------------------------------------------------------------------
    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        child = self.children.get(name) or Child(name, args, env)
        self.children[name] = child
        logs = self.settings.data_dir / "logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        if child.log is None:
            child.log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - shared with the child for its lifetime
        # own session: a terminal's Ctrl-C reaches only us, and we stop children in a known order
        child.proc = subprocess.Popen(  # noqa: S603 - our own fixed commands (sys.executable -m ...), no shell
            args, cwd=REPO_ROOT, env=env, stdout=child.log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,  # prctl only: takes no lock between fork and exec
        )  # fmt: skip
        child.started = time.monotonic()
        child.restart_at = None
        self.write_pids()
        return child

    def watch(self) -> None:
        """Look once at every child and at the database; restart what died (call this in a loop)."""
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is None:
                continue
            if child.restart_at is None and child.proc.poll() is not None:
                if now - child.started >= STABLE_AFTER_SECONDS:
                    child.failures = 0
                wait = RESTART_BACKOFF_SECONDS[min(child.failures, len(RESTART_BACKOFF_SECONDS) - 1)]
                child.failures += 1
                child.restart_at = now + wait
                log = self.settings.data_dir / "logs" / f"{child.name}.log"
                say(self.settings, f"error: {child.name} exited with code {child.proc.returncode}; "
                    f"restarting it in {wait} s (restart {child.failures}); see {log}", error=True)  # fmt: skip
            elif child.restart_at is not None and now >= child.restart_at:
                self.spawn(child.name, child.args, child.env)
                say(self.settings, f"{child.name} restarted (pid {child.proc.pid})")
        if self.embedded and now >= self.next_database_check:
            self.next_database_check = now + DATABASE_CHECK_SECONDS
            self._watch_database(now)

    # --- the embedded database ----------------------------------------------------------------------
    def _watch_database(self, now: float) -> None:
        from core.db import embedded

        if embedded.running(self.settings.data_dir):
            return
        if self.database_down_since is None:
            self.database_down_since = now
            say(self.settings, "error: PostgreSQL (embedded) has stopped: the app reports unhealthy "
                "(/healthz 503); starting it again", error=True)  # fmt: skip
        if now < self.database_retry_at:
            return
        try:
            embedded.start(self.settings.data_dir, stop_at_exit=False)
        except Exception as exc:  # the server's own log has the detail; keep trying with backoff
            wait = RESTART_BACKOFF_SECONDS[min(self.database_failures, len(RESTART_BACKOFF_SECONDS) - 1)]
            self.database_failures += 1
            self.database_retry_at = now + wait
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            say(self.settings, f"error: PostgreSQL did not start ({first}); trying again in {wait} s; "
                f"see {self.settings.data_dir / 'postgres' / 'log'}", error=True)  # fmt: skip
            return
        down = time.monotonic() - self.database_down_since
        say(self.settings, f"PostgreSQL (embedded) is running again after {down:.0f} s; the app is healthy again")
        self.database_down_since = None
        self.database_failures = 0
        self.write_pids()

    # --- pids -----------------------------------------------------------------------------------------
    def write_pids(self) -> None:
        pids = {name: c.proc.pid for name, c in self.children.items() if c.proc is not None}
        if self.embedded:
            pid_file = self.settings.data_dir / "postgres" / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError, IndexError):
                pids["postgres"] = int(pid_file.read_text().splitlines()[0])
        path = self.settings.data_dir / "run.json"
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps({"runner": os.getpid(), **pids}))
        partial.chmod(0o600)
        partial.replace(path)  # a reader never sees half a file
        self.owns_run_file = True

    def clear_leftovers(self) -> None:
        """Stop children a killed runner left behind (from run.json); refuse to start beside a live runner."""
        path = self.settings.data_dir / "run.json"
        try:
            recorded = json.loads(path.read_text())
        except FileNotFoundError:
            return
        except ValueError:
            path.unlink()
            return
        runner = recorded.pop("runner", None)
        if runner and _is_process(runner, "jobs.serve"):
            raise WorkbenchError(
                f"make run is already running for {self.settings.data_dir} (pid {runner}); "
                f"stop it first (Ctrl-C in its terminal, or kill {runner})"
            )
        stopped = []
        for name, pid in recorded.items():
            marker = MARKERS.get(name)
            if not marker or not isinstance(pid, int) or not _is_process(pid, marker):
                continue  # postgres (shared) is joined, not killed; a pid now used by another program is left alone
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                process.terminate()
                try:
                    process.wait(timeout=STOP_GRACE_SECONDS)
                except psutil.TimeoutExpired:
                    process.kill()
                stopped.append(f"{name} (pid {pid})")
        if stopped:
            say(self.settings, f"stopped what an earlier run (pid {runner}, killed) left behind: {', '.join(stopped)}")
        path.unlink(missing_ok=True)

    # --- stop -----------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the children (reverse order), then the embedded server; never raises, always removes run.json."""
        if self.stopping:
            return
        self.stopping = True
        if not self.children and not self.embedded and not self.owns_run_file:
            return  # refused before it started anything: nothing to stop, nothing to say
        print("\nstopping …", flush=True)
        try:
            self._stop_children()
            if self.embedded:
                from core.db import embedded

                try:
                    embedded.stop(self.settings.data_dir)
                except Exception as exc:  # report and go on: run.json must still go
                    say(self.settings, f"error: could not stop PostgreSQL: {exc}", error=True)
        finally:
            if self.owns_run_file:
                (self.settings.data_dir / "run.json").unlink(missing_ok=True)
        print("stopped; the data stays in", self.settings.data_dir, flush=True)

    def _stop_children(self) -> None:
        procs = [c.proc for c in reversed(list(self.children.values())) if c.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in self.children.values():
            if child.log is not None:
                child.log.close()


def _is_process(pid: int, marker: str) -> bool:
    """Return True when ``pid`` runs and its command line contains ``marker`` (not a reused pid)."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and any(marker in part for part in process.cmdline())
    except psutil.Error:
        return False


def port_in_use(host: str, port: int) -> bool:
    """Return True when something already listens on ``host:port``."""
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1" if host in {"0.0.0.0", ""} else host, port)) == 0  # noqa: S104


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def private_tree(root: Path) -> None:
    """Make every folder under ``root`` 0700 and every file 0600 (older versions left them 0755/0644).

    The embedded server's folder is left to PostgreSQL, which keeps it private itself and runs as another
    user when we are root.
    """
    if not root.exists():
        return
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d != "postgres"]
        for name in dirs:
            (here / name).chmod(0o700)
        for name in files:
            path = here / name
            if path.is_file() and not path.is_symlink():
                path.chmod(0o600)
