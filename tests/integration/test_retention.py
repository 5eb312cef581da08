"""The retention job: closed cases are anonymised RETENTION_MONTHS after their search ended; dry run and report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.config import load_settings
from core.errors import ConfigError
from core.operations import registry, runner
from core.patients import retention
from core.patients.models import Patient, PatientStatus, SearchStatus
from tests.support.matching import searching_patient

NOW = datetime(2026, 11, 26, 2, 40, tzinfo=UTC)


def closed_case(session, last_name: str, *, ended_on: date | None, status=SearchStatus.CANCELLED) -> int:
    email = f"{last_name.lower()}@example.org"
    search = searching_patient(session, last_name, email=email, started_on=date(2023, 1, 2))
    search.status, search.ended_on = status, ended_on
    if status == SearchStatus.CANCELLED:
        search.patient.status = PatientStatus.SEARCH_CANCELLED
    return search.patient_id


@pytest.fixture
def cases(committed_db) -> dict[str, int]:
    with Session(committed_db) as session:
        ids = {
            "old": closed_case(session, "Altfall", ended_on=date(2024, 11, 25)),  # 24 months and a day
            "exactly": closed_case(session, "Stichtag", ended_on=date(2024, 11, 26)),  # 24 months to the day
            "recent": closed_case(session, "Neufall", ended_on=date(2024, 11, 27)),  # a day short
            "active": closed_case(session, "Aktivfall", ended_on=None, status=SearchStatus.ACTIVE),
        }
        session.commit()
    return ids


def names(engine, ids: dict[str, int]) -> dict[str, str]:
    with Session(engine) as session:
        return {key: session.get(Patient, pid).last_name for key, pid in ids.items()}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 26), 24, date(2024, 11, 26)),  # the plain case
        (date(2026, 3, 31), 1, date(2026, 2, 28)),  # a shorter month clamps to its last day
        (date(2028, 2, 29), 12, date(2027, 2, 28)),  # leap day to a common year
        (date(2026, 1, 15), 13, date(2024, 12, 15)),  # across a year boundary
    ],
)
def test_months_before__calendar_months(day, months, expected):
    assert retention.months_before(day, months) == expected


def test_retention__dry_run_lists_due_cases_and_changes_nothing(committed_db, cases):
    report = retention.run(committed_db, now=NOW, dry_run=True, settings=load_settings())
    assert [c.patient_id for c in report.due] == [cases["old"], cases["exactly"]]
    assert report.cutoff == date(2024, 11, 26)
    assert report.anonymised == []
    assert names(committed_db, cases) == {"old": "Altfall", "exactly": "Stichtag", "recent": "Neufall",
                                          "active": "Aktivfall"}  # fmt: skip


def test_retention__anonymises_due_cases_only_and_stores_the_report(committed_db, cases):
    report = retention.run(committed_db, now=NOW, settings=load_settings())
    assert sorted(report.anonymised) == sorted([cases["old"], cases["exactly"]])
    assert report.failed == {}
    after = names(committed_db, cases)
    assert after["recent"] == "Neufall"
    assert after["active"] == "Aktivfall"
    with Session(committed_db) as session:
        for key in ("old", "exactly"):
            patient = session.get(Patient, cases[key])
            assert (patient.first_name, patient.email, patient.erased_at) == ("Gelöscht", None, NOW)
        stored = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "retention.completed")).one()
        reasons = session.scalars(select(AuditEvent.reason).where(AuditEvent.action == "patient.erased")).all()
    assert stored["anonymised"] == report.anonymised
    assert "Altfall" not in json.dumps(stored)  # the report names no one
    assert "retention: case closed on 25.11.2024, 24 months ago" in reasons
    assert retention.run(committed_db, now=NOW, settings=load_settings()).due == []  # nothing left to do


def test_retention__period_comes_from_the_setting(committed_db, cases):
    report = retention.run(committed_db, now=NOW, dry_run=True, settings=load_settings(retention_months=1))
    assert {c.patient_id for c in report.due} == {cases["old"], cases["exactly"], cases["recent"]}


def test_retention__zero_months_is_refused():
    with pytest.raises(ConfigError, match="RETENTION_MONTHS"):
        load_settings(retention_months=0)


def test_retention_job__registered_and_runs_through_the_runner(committed_db, cases):
    assert registry.get("retention").target == "core.patients.retention:scheduled_run"
    run = runner.run_job("retention", triggered_by="test", engine=committed_db, now=NOW)
    assert run.status.value == "succeeded"
    assert (run.counts["due"], run.counts["anonymised"], run.counts["failed"]) == (2, 2, 0)


def test_retention_cli__dry_run_prints_a_json_report(repo_root, committed_db, cases):
    result = subprocess.run([sys.executable, "-m", "jobs.retention", "--dry-run", "--json"], cwd=repo_root,
                            env=os.environ.copy(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["counts"]["dry_run"] is True
    due = {case["patient_id"] for case in output["report"]["due"]}
    assert {cases["old"], cases["exactly"]} <= due  # real today: at least the cases two years back
    assert cases["active"] not in due
    assert names(committed_db, cases)["old"] == "Altfall"
