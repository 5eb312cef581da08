"""Practice and Therapist records (DESIGN 3). Procedures are a set of (procedure, setting, age group)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, created_at_column, enum_column, updated_at_column
from core.patients.models import Gender, GenderWish, LocationPrecision


class Procedure(enum.StrEnum):
    VT = "VT"  # Verhaltenstherapie
    TP = "TP"  # tiefenpsychologisch fundierte Psychotherapie
    AP = "AP"  # analytische Psychotherapie
    ST = "ST"  # Systemische Therapie


class Setting(enum.StrEnum):
    INDIVIDUAL = "individual"
    GROUP = "group"


class AgeGroup(enum.StrEnum):
    ADULTS = "adults"
    CHILDREN_YOUTH = "children_youth"


class TherapistStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    INACTIVE = "inactive"


class ContactChannel(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class TherapistSource(enum.StrEnum):
    MANUAL = "manual"
    ARZTSUCHE_116117 = "116117"
    DEMO = "demo"


class Practice(Base):
    __tablename__ = "practice"
    __table_args__ = (
        Index("ix_practice_cooldown_until", "cooldown_until"),
        Index("ix_practice_postcode", "postcode"),
        Index("ix_practice_email_normalized", "email_normalized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email_normalized: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[LocationPrecision] = mapped_column(
        enum_column(LocationPrecision, "location_precision"), default="none"
    )
    contact_channel: Mapped[ContactChannel] = mapped_column(
        enum_column(ContactChannel, "contact_channel"), default="email"
    )
    # {"0": [["09:00", "12:00"]], ...} weekday (0 = Monday) -> list of [start, end]
    phone_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    cooldown_until: Mapped[date | None] = mapped_column(Date)
    last_contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    therapists: Mapped[list[Therapist]] = relationship(back_populates="practice")

    __mapper_args__ = {"version_id_col": version}


class Therapist(Base):
    __tablename__ = "therapist"
    __table_args__ = (
        Index("ix_therapist_status", "status"),
        Index("ix_therapist_postcode", "postcode"),
        Index("ix_therapist_source_external_id", "source", "external_id", unique=True),
        CheckConstraint(
            "pref_age_min IS NULL OR pref_age_max IS NULL OR pref_age_min <= pref_age_max",
            name="age_range",
        ),
        CheckConstraint("status = 'active' OR status_reason IS NOT NULL", name="status_needs_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(String(50))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "gender"))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[LocationPrecision] = mapped_column(
        enum_column(LocationPrecision, "location_precision"), default="none"
    )
    location_source: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    # [{"procedure": "VT", "setting": "individual", "age_group": "adults"}, ...]
    procedures: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=lambda: ["de"])
    phone_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    pref_age_min: Mapped[int | None] = mapped_column(Integer)
    pref_age_max: Mapped[int | None] = mapped_column(Integer)
    pref_patient_gender: Mapped[GenderWish] = mapped_column(enum_column(GenderWish, "gender_wish"), default="any")
    pref_diagnoses: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)  # empty = any
    statutory_licence: Mapped[bool] = mapped_column(default=True)  # Kassensitz
    status: Mapped[TherapistStatus] = mapped_column(enum_column(TherapistStatus, "therapist_status"), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_until: Mapped[date | None] = mapped_column(Date)
    accepting_patients: Mapped[bool | None] = mapped_column()
    accepting_confirmed_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[TherapistSource] = mapped_column(enum_column(TherapistSource, "therapist_source"), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(64))
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    last_seen_on: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    staff_edited_fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    practice: Mapped[Practice | None] = relationship(back_populates="therapists")

    __mapper_args__ = {"version_id_col": version}


# The therapist list sorts by name, quick search matches name and PLZ prefixes (pattern ops serve LIKE 'x%'
# under any collation), filters test procedures and languages by containment, duplicates compare e-mail and
# phone, and the unblock job looks for expired blocks: each of those stays an index lookup at 50,000 rows.
Index("ix_therapist_name_sort", func.lower(Therapist.last_name), func.lower(Therapist.first_name), Therapist.id)
Index(
    "ix_therapist_last_name_prefix",
    func.lower(Therapist.last_name).label("last_name_lower"),
    postgresql_ops={"last_name_lower": "text_pattern_ops"},
)
Index(
    "ix_therapist_first_name_prefix",
    func.lower(Therapist.first_name).label("first_name_lower"),
    postgresql_ops={"first_name_lower": "text_pattern_ops"},
)
Index("ix_therapist_postcode_prefix", Therapist.postcode, postgresql_ops={"postcode": "varchar_pattern_ops"})
Index(
    "ix_therapist_procedures",
    Therapist.procedures,
    postgresql_using="gin",
    postgresql_ops={"procedures": "jsonb_path_ops"},
)
Index("ix_therapist_languages", Therapist.languages, postgresql_using="gin")
Index("ix_therapist_email_lower", func.lower(Therapist.email))
Index("ix_therapist_phone", Therapist.phone)
Index("ix_therapist_blocked_until", Therapist.status_until, postgresql_where=Therapist.status == "blocked")
