"""Start the whole workbench on this machine: ``python -m jobs.serve`` (what ``make run`` calls).

Starts the embedded PostgreSQL (unless DATABASE_URL is set), migrates, loads the demo data on first
start (DEMO_DATA=0 skips it), creates a first admin account if there is none, starts the local mail
catcher, the job scheduler and the Streamlit app, and prints the URL and the login. Ctrl-C (SIGINT) or
SIGTERM stops every process it started; the data stays in DATA_DIR for the next start.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
import urllib.request
from datetime import UTC, datetime

from sqlalchemy import func, select

from core import clock
from core.config import Settings, get_settings, to_sqlalchemy_url
from core.db import _engine_for, current_revision, migrate, refresh_statistics, session_scope
from core.db.session_helpers import load_reference_data
from core.errors import WorkbenchError
from core.operations.status import configuration_checks
from jobs.cli import main_guard
from jobs.supervisor import Child, Supervisor, port_in_use, private_tree, say, wait_until

DEMO_ADMIN = "admin@example.org"
READY_TIMEOUT_SECONDS = 90  # the app's first start imports pandas, sqlalchemy, pydeck on a busy machine


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
             today=clock.today())  # fmt: skip
    refresh_statistics(engine)
    print(f"demo data loaded in {time.monotonic() - started:.1f} s", flush=True)


def ensure_warehouse(settings: Settings, engine) -> None:
    """Build the analytics warehouse when none is published yet and there is data (the first start).

    Later builds come from the nightly job or the rebuild button; a failure here only warns: the
    operational app works without analytics.
    """
    from core.db.models import Search
    from core.operations import runner

    if (settings.data_dir / "warehouse" / "current").exists():
        return
    with session_scope(engine) as session:
        if not session.scalar(select(func.count()).select_from(Search)):
            return
    print("building the analytics warehouse (pseudonymised) …", flush=True)
    started = time.monotonic()
    run = runner.run_job("build_warehouse", triggered_by="make run", engine=engine)
    if run.status.value == "succeeded":
        print(f"analytics warehouse built in {time.monotonic() - started:.1f} s", flush=True)
    else:
        say(settings, f"warning: the analytics warehouse was not built ({run.error}); "
                      "the analytics pages offer a rebuild", error=True)  # fmt: skip


def ensure_login(settings: Settings, engine) -> str:
    """Create the first admin account if there is none; return the line that tells how to log in.

    The password is shown on the start that created it only; afterwards the line says where it is kept
    (a terminal's scrollback and CI logs are no place for a password that opens health data).
    """
    from core.auth import service as auth
    from core.auth.models import StaffUser

    login_file = settings.data_dir / "demo-login.txt"
    with session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(StaffUser)) > 0:
            if login_file.exists():
                email = login_file.read_text().split()[0]
                return f"Login: {email} (password in {login_file}, readable only by you)"
            return "Login: with your account (python -m jobs.create_user creates one)"
        password = secrets.token_urlsafe(12)  # random per installation: no shared default password
        auth.create_user(session, email=DEMO_ADMIN, role="admin", password=password,
                         display_name="Demo Admin", actor="make run")  # fmt: skip
        fd = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{DEMO_ADMIN}\n{password}\n")
    return f"Login: {DEMO_ADMIN} / {password}\n(shown only now; kept in {login_file}, readable only by you)"


def app_ready(url: str, child: Child) -> bool:
    """Return True when /healthz answers ok from *our* app process (never from a stale one on the port)."""
    if child.proc is None or child.proc.poll() is not None:
        return False
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own URL
            return json.loads(response.read()).get("pid") == child.proc.pid
    except (OSError, ValueError):
        return False


def banner(settings: Settings, *, app_url: str, login: str, local_mail: bool) -> str:
    """Return what the user reads once everything runs: URL, login, where mail and answer links go."""
    checks = {check["check"]: check for check in configuration_checks(settings)}
    mail = checks["mail"]
    if local_mail:
        mail_line = f"Mail: local mail catcher on 127.0.0.1:{settings.mail_catcher_port} (nothing leaves this machine)"
    else:
        mail_line = f"Mail: SMTP {mail['target']}"
    if not mail["ok"]:
        mail_line += f"\n  warning: nothing listens on {mail['target']}: mail stays queued. {mail['advice']}"
    links = checks["links"]
    links_line = f"Answer links: {links['url']}"
    if not links["ok"]:
        links_line += f"\n  warning: {links['advice']}"
    return (f"\nWorkbench läuft / is running: {app_url}\n{login}\n{mail_line}\n{links_line}\n"
            "Ctrl-C stops everything.\n")  # fmt: skip


def main() -> int:
    os.umask(0o077)  # DATA_DIR holds health data, logs with addresses and secrets: private to this user
    settings = get_settings()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (settings.data_dir / "logs").mkdir(mode=0o700, exist_ok=True)
    private_tree(settings.data_dir)  # files an older version left world-readable
    stack = Supervisor(settings)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.clear_leftovers()
        if port_in_use(settings.app_host, settings.app_port):
            raise WorkbenchError(
                f"port {settings.app_port} is already in use by another program; stop it or set APP_PORT, "
                f"e.g. APP_PORT={settings.app_port + 1}"
            )
        url = start_database(stack)
        engine = _engine_for(to_sqlalchemy_url(url))
        migrate(engine)
        load_reference_data(engine)
        print(f"database at revision {current_revision(engine)}", flush=True)
        ensure_demo(settings, engine)
        ensure_warehouse(settings, engine)
        login = ensure_login(settings, engine)
        settings.resolved_secret_key()  # created now, under our umask, rather than by whichever child is first
        engine.dispose()

        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir)}
        local_mail = (
            settings.smtp_host in {"127.0.0.1", "localhost"} and settings.smtp_port == settings.mail_catcher_port
        )
        if local_mail:
            stack.spawn("mail_catcher", [sys.executable, "-m", "jobs.mail_catcher"], env)
        stack.spawn("scheduler", [sys.executable, "-m", "jobs.scheduler"], env)
        app = stack.spawn(
            "streamlit",
            [sys.executable, "-m", "streamlit", "run", "dashboards/server.py",
             "--server.address", settings.app_host, "--server.port", str(settings.app_port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            env,
        )  # fmt: skip
        local = f"http://127.0.0.1:{settings.app_port}"
        wait_until(lambda: app_ready(local, app) or app.proc.poll() is not None, timeout=READY_TIMEOUT_SECONDS)
        if not app_ready(local, app):
            log = settings.data_dir / "logs" / "streamlit.log"
            say(settings, f"error: the app did not start; see {log}", error=True)
            return 1
        shown_host = "localhost" if settings.app_host in {"127.0.0.1", "0.0.0.0"} else settings.app_host  # noqa: S104
        app_url = f"http://{shown_host}:{settings.app_port}"
        print(banner(settings, app_url=app_url, login=login, local_mail=local_mail), flush=True)
        print(f"ready at {datetime.now(UTC):%H:%M:%S} UTC", flush=True)
        while True:
            stack.watch()
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def start_database(stack: Supervisor) -> str:
    settings = stack.settings
    if settings.database_url:
        print("PostgreSQL: DATABASE_URL (own server; the embedded one is not started)", flush=True)
        return settings.database_url
    from core.db import embedded

    url = embedded.start(settings.data_dir, stop_at_exit=False)
    stack.embedded = True
    stack.write_pids()
    print(f"PostgreSQL 18 (embedded) in {settings.data_dir / 'postgres'}", flush=True)
    return url


if __name__ == "__main__":
    main_guard(main)
