"""The job commands as a user types them: the README's "Jobs by hand", job_run records, the job lock, bad input.

Every command runs as a real subprocess against the test database, without a terminal (like cron or CI).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.auth.models import StaffUser
from core.operations import runner
from core.operations.models import JobRun, JobStatus

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"  # synthetic, tests only
DEMO_SIZE = ["--therapists", "300", "--patients", "30"]  # the README's 3000/300, smaller for a shared 2-core box


def readme_commands(repo_root) -> list[list[str]]:
    """Return the commands of the README's "Jobs by hand" block (without the never-ending scheduler)."""
    readme = (repo_root / "README.md").read_text()
    block = readme.split("## Jobs by hand", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        words = shlex.split(line.split("#", 1)[0])
        assert words[:2] == [".venv/bin/python", "-m"], line
        if words[2] != "jobs.scheduler":  # runs until stopped; tests/integration/test_scheduler_startup.py
            commands.append([sys.executable, *words[1:]])
    return commands


def run(repo_root, command: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(
        command,
        cwd=repo_root,
        env=env or os.environ.copy(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,  # no controlling terminal, as under cron
    )


def job_runs(engine) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_readme_jobs_by_hand__every_command_works_and_records_its_run(committed_db, repo_root):
    env = {**os.environ, "PASSWORD": PASSWORD, "NOMINATIM_URL": ""}
    failures = []
    for command in readme_commands(repo_root):
        if command[2] == "jobs.seed_demo":
            command = [*command, *DEMO_SIZE]  # later options win
        result = run(repo_root, command, env=env)
        if result.returncode != 0 or "Traceback" in result.stderr:
            failures.append(f"{shlex.join(command[1:])} -> {result.returncode}\n{result.stderr[-1500:]}")
    assert failures == [], "\n\n".join(failures)
    recorded = {(r.job_name, r.triggered_by, r.status) for r in job_runs(committed_db)}
    for job in ("heartbeat", "geocode_pending", "run_matching", "send_emails", "follow_up", "unblock_therapists"):
        assert (job, "cli", JobStatus.SUCCEEDED) in recorded, sorted(recorded)


@pytest.mark.parametrize(
    ("job", "command"),
    [
        ("run_matching", ["jobs.run_matching", "--seed", "7"]),
        ("send_emails", ["jobs.send_emails"]),
        ("geocode_pending", ["jobs.geocode_pending"]),
        ("follow_up", ["jobs.follow_up"]),
        ("unblock_therapists", ["jobs.unblock_therapists"]),
        ("heartbeat", ["jobs.run_job", "heartbeat"]),
    ],
)
def test_cli__run_by_hand_is_skipped_while_the_job_runs_elsewhere(committed_db, repo_root, job, command):
    with committed_db.connect() as other, other.begin():  # the scheduler of another machine runs the job now
        other.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                      {"ns": runner.LOCK_NAMESPACE, "k": runner.lock_key(job)})  # fmt: skip
        result = run(repo_root, [sys.executable, "-m", *command])
    assert result.returncode == 0, result.stderr
    assert "already running elsewhere" in result.stdout + result.stderr
    assert [(r.job_name, r.status, r.triggered_by) for r in job_runs(committed_db)] == [(job, JobStatus.SKIPPED, "cli")]


def test_create_user_cli__without_a_terminal_says_how_to_pass_the_password(committed_db, repo_root):
    env = {k: v for k, v in os.environ.items() if k != "PASSWORD"}
    result = run(repo_root, [sys.executable, "-m", "jobs.create_user", "--email", "lea@example.org", "--role", "staff"],
                 env=env)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(r"^error: No terminal to ask for the password; set PASSWORD=\.\.\. in the environment "
                     r"or pipe it in with --password-stdin", lines[0])  # fmt: skip
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_create_user_cli__reads_the_password_from_stdin(committed_db, repo_root):
    env = {k: v for k, v in os.environ.items() if k != "PASSWORD"}
    command = [sys.executable, "-m", "jobs.create_user", "--email", "lea@example.org", "--role", "staff",
               "--password-stdin"]  # fmt: skip
    result = run(repo_root, command, env=env, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "created staff lea@example.org" in result.stdout
    with Session(committed_db) as session:
        user = auth.authenticate(
            session, email="lea@example.org", password=PASSWORD, now=datetime.now(UTC), lockout=timedelta(minutes=15)
        )
    assert user.email == "lea@example.org"


def test_send_emails_cli__json_of_a_skipped_run_says_so(committed_db, repo_root):
    with committed_db.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                      {"ns": runner.LOCK_NAMESPACE, "k": runner.lock_key("send_emails")})  # fmt: skip
        result = run(repo_root, [sys.executable, "-m", "jobs.send_emails", "--json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "job": "send_emails",
        "status": "skipped",
        "error": "already running elsewhere",
    }
