"""``python -m jobs.run_matching`` and the scheduled job on demo data: progress, summary, dry run, re-runs."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.demo import seed
from core.events.models import DomainEvent
from core.matching import service
from core.matching.models import Inquiry, InquiryItem, InquiryStatus
from core.operations import runner
from core.operations.models import JobStatus

STEPS = ("loading", "candidates:", "filters:", "scoring:", "assignment:")


def run_cli(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.run_matching", *args],
        cwd=repo_root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def table_counts(engine) -> dict[str, int]:
    with Session(engine) as db:
        return {
            model.__tablename__: db.scalar(select(func.count()).select_from(model))
            for model in (Inquiry, InquiryItem, AuditEvent, DomainEvent)
        }


def proposals(engine) -> list[tuple[str, str]]:
    with Session(engine) as db:
        return list(
            db.execute(
                select(Inquiry.reference, Inquiry.matching_run).where(Inquiry.status == InquiryStatus.PROPOSED)
            ).all()
        )


@pytest.fixture
def demo(committed_db):
    """Committed demo data: 600 therapists and 150 patients, as of today (the CLI runs with the real clock)."""
    with Session(committed_db) as db:
        seed(db, therapists=600, patients=150, seed=11, today=date.today())
        db.commit()
    return committed_db


@pytest.mark.parametrize(
    "region",
    [
        "1",  # one digit
        "1a",  # not a digit
        "101",  # a PLZ start of three digits
    ],
)
def test_cli__bad_region_exits_2_with_an_example(committed_db, repo_root, region):
    result = run_cli(repo_root, "--region", region)
    assert result.returncode == 2
    assert f"Region '{region}' must be two digits, the start of a PLZ, e.g. --region 10" in result.stderr
    assert table_counts(committed_db)["inquiry"] == 0


def test_cli__run_on_demo_data_stores_proposals_and_shows_progress(demo, repo_root):
    result = run_cli(repo_root, "--seed", "7")
    assert result.returncode == 0, result.stderr
    for step in STEPS:
        assert step in result.stderr
    assert "candidate pairs" in result.stdout
    assert "objective         optimised" in result.stdout
    run_id = result.stdout.split()[2]
    stored = proposals(demo)
    assert stored
    assert {run for _, run in stored} == {run_id}


def test_cli__dry_run_writes_nothing(demo, repo_root):
    before = table_counts(demo)
    result = run_cli(repo_root, "--dry-run", "--json", "--seed", "7")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["dry_run"] is True
    assert counts["inquiries"] > 0  # it did propose, and ...
    assert table_counts(demo) == before  # ... wrote nothing, not even the audit row


def test_cli__json_summary_has_the_counts(demo, repo_root):
    result = run_cli(repo_root, "--json", "--seed", "7")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    for key in ("searches", "therapists", "candidates", "pairs_passing", "inquiries", "items", "exploration_items",
                "objective_optimised", "objective_greedy", "seconds"):  # fmt: skip
        assert key in counts
    assert counts["objective_optimised"] >= counts["objective_greedy"] - 1e-9
    assert counts["items"] == table_counts(demo)["inquiry_item"] - _reviewed_items(demo)


def _reviewed_items(engine) -> int:
    with Session(engine) as db:
        return db.scalar(
            select(func.count())
            .select_from(InquiryItem)
            .join(Inquiry, Inquiry.id == InquiryItem.inquiry_id)
            .where(Inquiry.status != InquiryStatus.PROPOSED)
        )


def test_cli__rerun_replaces_only_unreviewed_proposals(demo, repo_root):
    assert run_cli(repo_root, "--seed", "7").returncode == 0
    first = proposals(demo)
    with Session(demo) as db:
        approved = db.scalars(select(Inquiry).where(Inquiry.status == InquiryStatus.PROPOSED)).first()
        report = service.approve_many(db, inquiry_ids=[approved.id], actor="anna@example.org",
                                      now=datetime.now(UTC), override_reason="test: approve whatever")  # fmt: skip
        assert report[0].approved, report[0].message
        db.commit()
        approved_reference = approved.reference
    second = run_cli(repo_root, "--seed", "7")
    assert second.returncode == 0, second.stderr
    run_id = second.stdout.split()[2]
    with Session(demo) as db:
        status = db.scalar(select(Inquiry.status).where(Inquiry.reference == approved_reference))
    assert status == InquiryStatus.APPROVED
    after = proposals(demo)
    assert {run for _, run in after} == {run_id}  # every older proposal was replaced
    assert not {ref for ref, _ in after} & {ref for ref, _ in first}  # with new references


def test_scheduled_job__runs_through_the_runner(demo):
    run = runner.run_job("run_matching", engine=demo)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.counts["inquiries"] == len(proposals(demo)) > 0
    dry = runner.run_job("run_matching", engine=demo, dry_run=True)
    assert dry.status == JobStatus.SUCCEEDED
    assert dry.counts["dry_run"] is True


def test_cli__negative_seed_is_one_clear_line_and_exit_2(committed_db, repo_root):
    result = run_cli(repo_root, "--seed", "-1")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --seed -1 must be 0 or more, e.g. --seed 7"
    assert table_counts(committed_db)["inquiry"] == 0
