"""The demo data in PostgreSQL and one published warehouse built from it: the analytics tests' common ground.

with demo_warehouse(engine, seed=11, roles=("manager", "analyst")) as demo:
    demo.users["analyst"]     # (user id, e-mail) to open a page as
    demo.summary["build"]     # the published build
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.config import get_settings
from core.demo.service import seed as seed_demo
from core.warehouse.build import build_warehouse
from tests.conftest import truncate_all

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
PASSWORD = "ein langes passwort"


@dataclass
class DemoWarehouse:
    summary: dict[str, Any]
    users: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def extracted_on(self) -> date:
        return date.fromisoformat(self.summary["extracted_on"])


@contextmanager
def demo_warehouse(
    engine: Engine,
    *,
    seed: int = 11,
    therapists: int = 1200,
    patients: int = 200,
    roles: Sequence[str] = (),
    today: date = TODAY,
    now: datetime = NOW,
    password: str = PASSWORD,
) -> Iterator[DemoWarehouse]:
    """Commit the demo data and a user per role, publish a full warehouse build; empty both afterwards."""
    truncate_all(engine)
    shutil.rmtree(get_settings().data_dir / "warehouse", ignore_errors=True)
    with Session(engine) as session:
        seed_demo(session, therapists=therapists, patients=patients, seed=seed, today=today)
        created = {
            role: auth.create_user(session, email=f"{role}@example.org", role=role, password=password) for role in roles
        }
        session.commit()
        users = {role: (user.id, user.email) for role, user in created.items()}
    try:
        with Session(engine) as session:
            summary = build_warehouse(session, now=now, full=True)
        yield DemoWarehouse(summary=summary, users=users)
    finally:
        truncate_all(engine)
        shutil.rmtree(get_settings().data_dir / "warehouse", ignore_errors=True)
