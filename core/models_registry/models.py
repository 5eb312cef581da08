"""MatchModelVersion: one trained match model, its artifact's checksum, its metrics, and whether it is active.

At most one version is active (a partial unique index); none active means the prior scores. Activation
records what was active before (``previous_active_id``), so rollback is one step back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column


class MatchModelVersion(Base):
    __tablename__ = "match_model"
    __table_args__ = (Index("uq_match_model_active", "is_active", unique=True, postgresql_where=text("is_active")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, ...; the model's name is learned-v<version>
    kind: Mapped[str] = mapped_column(String(40))  # core.matching.learned.MODEL_KIND
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_start: Mapped[date | None] = mapped_column(Date)  # first and last proposal day of the training rows
    window_end: Mapped[date | None] = mapped_column(Date)
    test_start: Mapped[date | None] = mapped_column(Date)  # the held-out newest rows start here
    train_rows: Mapped[int] = mapped_column(Integer)
    test_rows: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSONB)
    library_versions: Mapped[dict[str, str]] = mapped_column(JSONB)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"learned": {...}, "prior": {...}, "off_policy": ...}
    artifact_path: Mapped[str] = mapped_column(Text)  # relative to DATA_DIR
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activated_by: Mapped[str | None] = mapped_column(String(200))
    activation_reason: Mapped[str | None] = mapped_column(Text)
    previous_active_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_model.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()

    @property
    def name(self) -> str:
        return f"learned-v{self.version}"
