"""Start the whole workbench on this machine: ``python -m jobs.serve`` (what ``make run`` calls).

Starts the embedded PostgreSQL (unless DATABASE_URL is set), migrates, loads the demo data on first
start (DEMO_DATA=0 skips it), creates a first admin account if there is none, starts the local mail
catcher, the job scheduler and the Streamlit app, and prints the URL and the login. Ctrl-C (SIGINT) or
SIGTERM stops every process it started; the data stays in DATA_DIR for the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from core.config import REPO_ROOT, Settings, get_settings, to_sqlalchemy_url
from core.db import _engine_for, current_revision, migrate, refresh_statistics, session_scope
from core.db.session_helpers import load_reference_data
from jobs.cli import main_guard

DEMO_ADMIN = "admin@example.org"
STOP_GRACE_SECONDS = 10  # children get this long to exit after SIGTERM before they are killed


class Stack:
    """The processes ``make run`` owns, stopped in reverse order of starting."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children: dict[str, subprocess.Popen] = {}
        self.embedded = False
        self.stopping = False

    def start_database(self) -> str:
        if self.settings.database_url:
            print("PostgreSQL: DATABASE_URL (own server; the embedded one is not started)", flush=True)
            return self.settings.database_url
        from core.db import embedded

        url = embedded.start(self.settings.data_dir, stop_at_exit=False)
        self.embedded = True
        print(f"PostgreSQL 18 (embedded) in {self.settings.data_dir / 'postgres'}", flush=True)
        return url

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.settings.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        # own session: a terminal's Ctrl-C reaches only us, and we stop children in a known order
        self.children[name] = subprocess.Popen(  # noqa: S603 - args are our own fixed commands (sys.executable -m ...)
            args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def write_pids(self) -> None:
        pids = {name: proc.pid for name, proc in self.children.items()}
        if self.embedded:
            pid_file = self.settings.data_dir / "postgres" / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError, IndexError):
                pids["postgres"] = int(pid_file.read_text().splitlines()[0])
        (self.settings.data_dir / "run.json").write_text(json.dumps({"runner": os.getpid(), **pids}))

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        print("\nstopping …", flush=True)
        for proc in reversed(list(self.children.values())):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self.children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.embedded:
            from core.db import embedded

            embedded.stop(self.settings.data_dir)
        with contextlib.suppress(FileNotFoundError):
            (self.settings.data_dir / "run.json").unlink()
        print("stopped; the data stays in", self.settings.data_dir, flush=True)


def ensure_demo(settings: Settings, engine) -> None:
    """Seed the demo data on first start, unless DEMO_DATA=0 or the database already has data."""
    from core.db.models import Patient, Therapist

    if not settings.demo_data:
        return
    with session_scope(engine) as session:
        existing = session.scalar(select(func.count()).select_from(Therapist)) + session.scalar(
            select(func.count()).select_from(Patient)
        )
        if existing:
            return
        from core.demo import seed

        print(
            f"loading demo data ({settings.demo_therapists} therapists, {settings.demo_patients} patients) …",
            flush=True,
        )
        started = time.monotonic()
        seed(session, therapists=settings.demo_therapists, patients=settings.demo_patients, seed=42,
             today=date.today())  # fmt: skip
    refresh_statistics(engine)
    print(f"demo data loaded in {time.monotonic() - started:.1f} s", flush=True)


def ensure_login(settings: Settings, engine) -> str:
    """Create the first admin account if there is none; return the line that tells how to log in."""
    from core.auth import service as auth
    from core.auth.models import StaffUser

    login_file = settings.data_dir / "demo-login.txt"
    with session_scope(engine) as session:
        has_users = session.scalar(select(func.count()).select_from(StaffUser)) > 0
        if not has_users:
            password = secrets.token_urlsafe(12)  # random per installation: no shared default password
            auth.create_user(session, email=DEMO_ADMIN, role="admin", password=password,
                             display_name="Demo Admin", actor="make run")  # fmt: skip
            login_file.write_text(f"{DEMO_ADMIN}\n{password}\n")
            login_file.chmod(0o600)
    if login_file.exists():
        email, password = login_file.read_text().split()[:2]
        return f"Login: {email} / {password}"
    return "Login: with your account (python -m jobs.create_user creates one)"


def wait_for_app(url: str, proc: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def main() -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "logs").mkdir(exist_ok=True)
    stack = Stack(settings)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        url = stack.start_database()
        engine = _engine_for(to_sqlalchemy_url(url))
        migrate(engine)
        load_reference_data(engine)
        print(f"database at revision {current_revision(engine)}", flush=True)
        ensure_demo(settings, engine)
        login = ensure_login(settings, engine)
        engine.dispose()

        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir)}
        local_mail = (
            settings.smtp_host in {"127.0.0.1", "localhost"} and settings.smtp_port == settings.mail_catcher_port
        )
        if local_mail:
            stack.spawn("mail_catcher", [sys.executable, "-m", "jobs.mail_catcher"], env)
        stack.spawn("scheduler", [sys.executable, "-m", "jobs.scheduler"], env)
        stack.spawn(
            "streamlit",
            [sys.executable, "-m", "streamlit", "run", "dashboards/app.py",
             "--server.address", settings.app_host, "--server.port", str(settings.app_port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            env,
        )  # fmt: skip
        stack.write_pids()
        shown_host = "localhost" if settings.app_host in {"127.0.0.1", "0.0.0.0"} else settings.app_host  # noqa: S104
        app_url = f"http://{shown_host}:{settings.app_port}"
        if not wait_for_app(f"http://127.0.0.1:{settings.app_port}", stack.children["streamlit"]):
            print(f"error: the app did not start; see {settings.data_dir / 'logs' / 'streamlit.log'}", file=sys.stderr)
            return 1
        mail = f"local mail catcher on port {settings.mail_catcher_port}" if local_mail else settings.smtp_host
        print(f"\nWorkbench läuft / is running: {app_url}\n{login}\nMail: {mail}\nCtrl-C stops everything.\n",
              flush=True)  # fmt: skip
        print(f"ready at {datetime.now(UTC):%H:%M:%S} UTC", flush=True)
        while True:
            for name, proc in stack.children.items():
                if proc.poll() is not None:
                    log = settings.data_dir / "logs" / f"{name}.log"
                    print(f"error: {name} exited with code {proc.returncode}; see {log}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    main_guard(main)
