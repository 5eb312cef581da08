"""``python -m jobs.train_model``: too little data keeps the prior; enough data registers a version."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.models_registry import service
from core.operations import runner
from tests.support.learned_world import answered_history


def run_cli(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.train_model", *args],
        cwd=repo_root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli__with_too_little_data_says_so_and_keeps_the_prior(committed_db, repo_root):
    done = run_cli(repo_root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("too little data to train: 0 training rows")
    assert "The active model (the prior on a fresh install) stays." in done.stdout
    with Session(committed_db) as session:
        assert service.list_versions(session) == []


def test_cli__a_bad_since_is_one_clear_line_and_exit_2(committed_db, repo_root):
    done = run_cli(repo_root, "--since", "2026-13-01")
    assert done.returncode == 2
    assert "'2026-13-01' is not a date; use YYYY-MM-DD, e.g. 2026-01-01" in done.stderr


def test_cli__trains_registers_and_reports_json(committed_db, repo_root):
    with Session(committed_db) as session:
        answered_history(session, rows=1_200, now=datetime.now(UTC))
        session.commit()
    dry = run_cli(repo_root, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["status"] == "trained"
    with Session(committed_db) as session:
        assert service.list_versions(session) == []
    done = run_cli(repo_root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("registered learned-v1 (")
    with Session(committed_db) as session:
        [row] = service.list_versions(session)
        assert row.train_rows + row.test_rows == 1_200


def test_scheduled_job__runs_through_the_runner(committed_db):
    run = runner.run_job("train_model", triggered_by="test", engine=committed_db)
    assert run.status.value == "succeeded"
    assert run.counts["status"] == "too_little_data"
