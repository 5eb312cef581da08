"""Backups: a checked pg_dump in DATA_DIR/backups, and a restore that reproduces every table exactly."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.config import get_settings
from core.demo.service import seed
from core.errors import JobError
from core.operations import backup
from core.operations.models import JobRun, JobStatus

pytestmark = pytest.mark.slow
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def fingerprint(engine) -> dict[str, tuple[int, str]]:
    """Every public table's row count and an md5 over its rows in a canonical order."""
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
        result = {}
        for table in tables.scalars().all():
            row = conn.execute(text(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) FROM "{table}" t'
            )).one()  # fmt: skip
            result[table] = (row[0], row[1])
    return result


def destroy(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def demo(committed_db):
    with Session(committed_db) as session:
        seed(session, therapists=150, patients=25, seed=3, today=date(2026, 11, 30))
        session.commit()
    yield committed_db
    for path in backup.list_backups(get_settings()):
        path.unlink()


def test_backup_restore__round_trip_reproduces_every_table_exactly(demo, database_url):
    before = fingerprint(demo)
    assert before["patient"][0] == 25
    assert before["audit_event"][0] > 0
    result = backup.create_backup(settings=get_settings(), now=NOW, database_url=database_url)
    assert result.path.parent == get_settings().data_dir / "backups"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert result.entries > 50
    demo.dispose()
    destroy(demo)
    assert fingerprint(demo) == {}
    backup.restore(settings=get_settings(), path=result.path, database_url=database_url)
    demo.dispose()
    assert fingerprint(demo) == before
    with demo.connect() as conn:  # the audit chain's trigger came back too: new rows still get chained
        triggers = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")).scalar_one()
    assert triggers > 0


def test_restore__refuses_a_database_with_tables_and_changes_nothing(demo, database_url):
    result = backup.create_backup(settings=get_settings(), now=NOW, database_url=database_url)
    with demo.begin() as conn:
        conn.execute(text("UPDATE patient SET city = 'Nachher' WHERE id = (SELECT min(id) FROM patient)"))
    before = fingerprint(demo)
    with pytest.raises(JobError, match=r"not empty.*--force"):
        backup.restore(settings=get_settings(), path=result.path, database_url=database_url)
    assert fingerprint(demo) == before
    backup.restore(settings=get_settings(), path=result.path, database_url=database_url, force=True)
    demo.dispose()
    with demo.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patient WHERE city = 'Nachher'")).scalar_one() == 0


def test_backup__keeps_the_newest_backup_keep_files(demo, database_url, monkeypatch):
    monkeypatch.setenv("BACKUP_KEEP", "2")
    get_settings.cache_clear()
    try:
        for hours in range(3):
            backup.create_backup(settings=get_settings(), now=NOW + timedelta(hours=hours), database_url=database_url)
        names = [path.name for path in backup.list_backups(get_settings())]
    finally:
        monkeypatch.delenv("BACKUP_KEEP")
        get_settings.cache_clear()
    assert names == ["placement-20261201T020000Z.dump", "placement-20261201T030000Z.dump"]


def test_check_backup__a_truncated_dump_is_refused_by_name(demo, database_url, tmp_path):
    result = backup.create_backup(settings=get_settings(), now=NOW, database_url=database_url)
    broken = tmp_path / "placement-20261201T010000Z.dump"
    broken.write_bytes(result.path.read_bytes()[:2000])
    with pytest.raises(JobError, match="pg_restore failed"):
        backup.check_backup(broken)
    before = fingerprint(demo)
    with pytest.raises(JobError):
        backup.restore(settings=get_settings(), path=broken, database_url=database_url, force=True)
    assert fingerprint(demo) == before


def test_backup_cli__records_its_run_and_writes_a_private_file(demo, repo_root):
    done = subprocess.run([sys.executable, "-m", "jobs.backup", "--json"], cwd=repo_root, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"status": "succeeded"' in done.stdout
    files = backup.list_backups(get_settings())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    with Session(demo) as session:
        run = session.scalars(select(JobRun).where(JobRun.job_name == "backup")).one()
    assert run.status == JobStatus.SUCCEEDED
    assert run.counts["file"] == files[0].name
    command = [sys.executable, "-m", "jobs.restore", "data/backups/nope.dump"]
    missing = subprocess.run(command, cwd=repo_root, env=os.environ.copy(), capture_output=True, text=True,
                             timeout=120, check=False)  # fmt: skip
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_backup__goes_past_the_pooler_to_database_direct_url(demo, database_url, monkeypatch):
    # the job's own connection (here: a port nothing listens on, standing in for PgBouncer) is not used
    # for pg_dump when DATABASE_DIRECT_URL names the server: pg_dump's session settings must not reach
    # other clients of a transaction-mode pooler
    pooled = "postgresql+psycopg2://postgres@127.0.0.1:1/workbench_test"
    monkeypatch.setenv("DATABASE_DIRECT_URL", database_url.replace("postgresql+psycopg2://", "postgresql://"))
    get_settings.cache_clear()
    try:
        result = backup.create_backup(settings=get_settings(), now=NOW, database_url=pooled)
    finally:
        monkeypatch.delenv("DATABASE_DIRECT_URL")
        get_settings.cache_clear()
    assert result.path.exists()
    assert result.entries > 0
