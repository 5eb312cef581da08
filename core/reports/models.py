"""A saved custom report: name, owner, whether colleagues see it, the definition (core.warehouse.reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import StaffUser
from core.db.base import Base, created_at_column, updated_at_column

NAME_LENGTH = 120  # characters; a title, not a description


class SavedReport(Base):
    __tablename__ = "saved_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(default=False, server_default="false")
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[StaffUser] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


# One owner cannot have two reports called "Vermittlungen" and "vermittlungen": the list would be ambiguous.
Index("uq_saved_report_owner_name", SavedReport.owner_id, func.lower(SavedReport.name), unique=True)
