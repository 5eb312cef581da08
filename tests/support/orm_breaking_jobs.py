"""Plugins for scheduler tests whose models cannot be mapped (imported only by scheduler subprocesses).

``--plugin tests.support.orm_breaking_jobs`` registers the job ``breaks_orm``: it maps a class whose
relationship names a class that does not exist, then queries, so every mapper of the process fails to
initialise. ``--plugin tests.support.unmappable_models`` fails the same way already when it is imported.
"""

from sqlalchemy import select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base
from core.operations import registry
from core.operations.models import JobRun


def breaks_orm(session, *, now, dry_run=False):
    class Unmappable(Base):
        __tablename__ = "unmappable_at_run_time"
        id: Mapped[int] = mapped_column(primary_key=True)
        ghost = relationship("NoSuchModel")

    session.scalars(select(JobRun).limit(1)).all()
    return {}


registry.register("breaks_orm", "tests.support.orm_breaking_jobs:breaks_orm", cron="0 0 1 1 *",
                  description="Breaks the ORM of its process (tests).")  # fmt: skip
