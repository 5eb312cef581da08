"""``python -m jobs.import_directory`` as a user types it: a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.directory.models import DirectoryImport
from core.therapists.models import Therapist

FIXTURES = "tests/fixtures/directory"


def run(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.import_directory", *args], cwd=repo_root, env=os.environ.copy(),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def counts(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (session.scalar(select(func.count()).select_from(Therapist)),
                session.scalar(select(func.count()).select_from(DirectoryImport)))  # fmt: skip


def test_job__dry_run_reports_as_json_and_writes_nothing(committed_db, repo_root):
    result = run(repo_root, f"{FIXTURES}/new_format.json", f"{FIXTURES}/layout_a.csv", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["import_id"], report["counts"]["new"]) == (True, None, 4)
    assert counts(committed_db) == (0, 0)


def test_job__imports_then_the_same_file_again_changes_nothing(committed_db, repo_root):
    first = run(repo_root, f"{FIXTURES}/new_format.json")
    assert first.returncode == 0, first.stderr
    assert "committed: entries 2, new 2," in first.stdout
    second = run(repo_root, f"{FIXTURES}/new_format.json", "--json")
    assert json.loads(second.stdout)["counts"]["changes"] == 0
    assert counts(committed_db) == (2, 2)


def test_job__a_broken_file_exits_2_with_the_file_and_line_and_writes_nothing(committed_db, repo_root):
    result = run(repo_root, f"{FIXTURES}/new_format.json", f"{FIXTURES}/truncated.json")
    assert result.returncode == 2
    assert "error: truncated.json, line" in result.stderr
    assert "Traceback" not in result.stderr
    assert counts(committed_db) == (0, 0)


def test_job__rejected_entries_are_listed_with_file_line_and_field(committed_db, repo_root):
    result = run(repo_root, f"{FIXTURES}/html_name.json")
    assert result.returncode == 0
    assert "rejected: html_name.json, line 3, entry SYN-5005, field name: Surname '<b>Beispiel</b>' contains HTML" in (
        result.stderr
    )
