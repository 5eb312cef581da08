"""Build the warehouse: extract, run the dbt models and their tests, publish atomically.

Layout under DATA_DIR/warehouse/ (directories 0700, files 0600):

    builds/<build id>/raw/*.parquet      the pseudonymised extract
    builds/<build id>/warehouse.duckdb   the marts (dbt-duckdb)
    builds/<build id>/manifest.json      when, row counts in PostgreSQL, dbt's results
    current -> builds/<build id>         the published build: readers resolve it when they connect

A build is published only when every dbt model and test passed (schema tests and the reconciliation with
PostgreSQL's counts). Publishing is one atomic rename of the ``current`` link, so pages and notebooks read
the previous complete build until then. A failed build is kept under ``failed/`` for diagnosis and the
job fails naming the model or test that broke.

Example:
    with session_scope() as session:
        report = build_warehouse(session, now=datetime.now(UTC), dry_run=False)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.config import REPO_ROOT, Settings, get_settings
from core.errors import JobError
from core.warehouse.extract import extract
from core.warehouse.pseudonyms import warehouse_key

DBT_PROJECT = REPO_ROOT / "sql"
KEEP_BUILDS = 3  # the published build and two before it, for comparison and rollback
DUCKDB_FILE = "warehouse.duckdb"
DBT_TIMEOUT_SECONDS = 1800  # a national warehouse builds in well under a minute; this only stops a hang


class WarehouseCheckFailed(JobError):
    """A dbt model or test failed; the previous build stays published."""


def warehouse_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "warehouse"


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def run_dbt(*, raw_dir: Path, duckdb_path: Path, work_dir: Path, variables: dict[str, Any],
            project_dir: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Run ``dbt build`` (models and tests) into ``duckdb_path``; return the results or raise naming the failure.

    dbt runs in its own process: it closes the DuckDB file when it ends (so the file can be published) and
    leaves no logging handlers or global state behind in a dashboard process.
    """
    project_dir = project_dir or DBT_PROJECT
    environment = {
        **os.environ,
        "WAREHOUSE_RAW": str(raw_dir),
        "WAREHOUSE_DUCKDB": str(duckdb_path),
        "WAREHOUSE_DBT_TARGET": str(work_dir / "target"),
        "WAREHOUSE_DBT_LOGS": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",  # dbt 1.10 imports click's deprecated parser
    }
    command = [
        sys.executable, "-m", "dbt.cli.main", "build", "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir), "--vars", json.dumps(variables), "--no-partial-parse",
        "--threads", "2", "--log-format", "text", "--no-use-colors",
        "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    completed = subprocess.run(  # noqa: S603 - our own interpreter and dbt with fixed arguments, no shell
        command, env=environment, capture_output=True, text=True, timeout=DBT_TIMEOUT_SECONDS
    )
    results_file = work_dir / "target" / "run_results.json"
    nodes = []
    failures = []
    if results_file.exists():
        for node in json.loads(results_file.read_text()).get("results", []):
            name = node["unique_id"].split(".")[-1] if node["unique_id"].startswith("model.") else node["unique_id"]
            name = name.split(".")[2] if name.startswith("test.") else name
            nodes.append({"node": name, "status": node["status"], "failures": node.get("failures")})
            if node["status"] not in {"success", "pass"}:
                message = (node.get("message") or "").strip().splitlines()
                failures.append(f"{name} ({node['status']}{': ' + message[0] if message else ''})")
    if completed.returncode != 0 or failures:
        if not failures:
            lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
            failures = [" / ".join(lines[-3:]) or f"dbt exited with {completed.returncode}"]
        raise WarehouseCheckFailed(
            "Warehouse check failed: "
            + "; ".join(failures)
            + ". The previous build stays published; the failed build's logs are under warehouse/failed/."
        )
    return {"nodes": nodes}


def _publish(root: Path, build: Path) -> None:
    link = root / "current"
    temporary = root / f".current-{build.name}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(Path("builds") / build.name)
    os.replace(temporary, link)  # atomic: readers see the old or the new build, never a mix


def _prune(root: Path, keep: int = KEEP_BUILDS) -> None:
    current = (root / "current").resolve() if (root / "current").exists() else None
    builds = sorted((p for p in (root / "builds").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in builds[:-keep]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
    failed = root / "failed"
    if failed.exists():
        for old in sorted(failed.iterdir(), key=lambda p: p.name)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)


def build_warehouse(
    session: Session, *, now: datetime, dry_run: bool = False, full: bool = True, settings: Settings | None = None
) -> dict[str, Any]:
    """Extract, build and check the warehouse; publish it unless ``dry_run``. Returns the job summary."""
    settings = settings or get_settings()
    root = _private_dir(warehouse_dir(settings))
    _private_dir(root / "builds")
    local_day = now.astimezone(ZoneInfo(settings.timezone)).date() if now.tzinfo else now.date()
    build_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f".build-{build_id}-", dir=root) as staging_name:
        staging = Path(staging_name)
        staging.chmod(0o700)
        key = warehouse_key(settings.resolved_secret_key())
        manifest = extract(session.get_bind(), out_dir=staging / "raw", key=key, today=local_day)
        extracted = time.perf_counter()
        variables = {"extracted_on": local_day.isoformat(), "pg_counts": manifest.counts}
        try:
            dbt = run_dbt(raw_dir=staging / "raw", duckdb_path=staging / DUCKDB_FILE, work_dir=staging,
                          variables=variables)  # fmt: skip
        except WarehouseCheckFailed:
            if not dry_run:
                failed = _private_dir(root / "failed")
                shutil.move(str(staging), failed / build_id)
                os.makedirs(staging, exist_ok=True)  # TemporaryDirectory removes it again
            raise
        built = time.perf_counter()
        summary = {
            "build": build_id,
            "extracted_on": local_day.isoformat(),
            "rows": manifest.counts,
            "models_and_tests": len(dbt["nodes"]),
            "seconds_extract": round(extracted - started, 2),
            "seconds_marts": round(built - extracted, 2),
            "published": False,
            "full": full,
        }
        if dry_run:
            return summary
        (staging / "manifest.json").write_text(
            json.dumps({**summary, "manifest": asdict(manifest), "dbt": dbt}, default=str, indent=1)
        )
        for leftover in ("target", "logs"):
            shutil.rmtree(staging / leftover, ignore_errors=True)  # compiled SQL is not needed by readers
        for path in staging.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        final = root / "builds" / build_id
        os.replace(staging, final)
        os.makedirs(staging, exist_ok=True)  # TemporaryDirectory removes it again
    _publish(root, final)
    _prune(root)
    summary["published"] = True
    return summary


def job(session: Session, *, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """The scheduled job ``build_warehouse`` (nightly)."""
    return build_warehouse(session, now=now, dry_run=dry_run)
