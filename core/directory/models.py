"""Directory imports: the import history, per-field changes, directory-only data, review queue, CSV layouts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column


class DirectoryImport(Base):
    """One committed import: which files, which area it covered, and its report (counts and every problem)."""

    __tablename__ = "directory_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(254))
    file_names: Mapped[list[str]] = mapped_column(ARRAY(Text))
    imported_on: Mapped[date] = mapped_column(Date)
    # the 5-digit postcodes of the accepted entries: a listed therapist there who is missing was not seen
    covered_postcodes: Mapped[list[str]] = mapped_column(ARRAY(String(5)), default=list)
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at_column()


class DirectoryChange(Base):
    """One field of one therapist changed (or kept, for a conflict) by one import."""

    __tablename__ = "directory_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("directory_import.id", ondelete="CASCADE"), index=True)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # new, changed, conflict, not_seen, inactive, back
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONB, nullable=True)


class DirectoryListing(Base):
    """What the directory says about a therapist beyond our columns, and whether imports still see them."""

    __tablename__ = "directory_listing"

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"), primary_key=True)
    consultation_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # the import that last changed this row (hours, details, the not-seen mark); one that saw it unchanged leaves it
    last_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("directory_import.id", ondelete="SET NULL"), index=True
    )
    not_seen_since: Mapped[date | None] = mapped_column(Date)
    missed_imports: Mapped[int] = mapped_column(Integer, default=0)  # covering imports in a row without them
    deactivated_by_import: Mapped[bool] = mapped_column(default=False)  # so seeing them again reactivates


class DirectoryReview(Base):
    """An uncertain match (one of name, postcode, street differs): staff decide, the import never merges it."""

    __tablename__ = "directory_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("directory_import.id", ondelete="CASCADE"), index=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    differs: Mapped[str] = mapped_column(String(16))  # name, postcode or street
    entry: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, merged, separate, dismissed
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class DirectoryLayout(Base):
    """A CSV/Excel layout (its header signature) and the column mapping staff chose for it."""

    __tablename__ = "directory_layout"

    signature: Mapped[str] = mapped_column(String(16), primary_key=True)
    headers: Mapped[list[str]] = mapped_column(ARRAY(Text))
    mapping: Mapped[dict[str, str]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = created_at_column()
