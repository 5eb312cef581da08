"""Patient, Consent and Search (Platzsuche) records; states as in DESIGN 3.1."""

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
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, created_at_column, enum_column, updated_at_column


class PatientStatus(enum.StrEnum):
    NEW = "new"
    SEARCHING = "searching"
    IN_THERAPY = "in_therapy"
    THERAPY_FINISHED = "therapy_finished"
    SEARCH_CANCELLED = "search_cancelled"
    THERAPY_ABORTED = "therapy_aborted"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    DIVERSE = "diverse"
    UNKNOWN = "unknown"


class GenderWish(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    ANY = "any"


class InsuranceType(enum.StrEnum):
    STATUTORY = "statutory"  # gesetzlich (GKV)
    PRIVATE = "private"  # privat (PKV)
    SUBSIDY = "subsidy"  # Beihilfe
    SELF_PAY = "self_pay"  # Selbstzahler


class TransportMode(enum.StrEnum):
    CAR = "car"
    TRANSIT = "transit"
    BIKE = "bike"
    FOOT = "foot"


class LocationPrecision(enum.StrEnum):
    ADDRESS = "address"
    POSTCODE = "postcode"
    NONE = "none"


class SettingWish(enum.StrEnum):
    INDIVIDUAL = "individual"
    GROUP = "group"
    EITHER = "either"


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_status", "status"),
        Index("ix_patient_postcode", "postcode"),
        CheckConstraint(
            "max_distance_km IS NULL OR max_distance_km > 0",
            name="max_distance_positive",
        ),
        CheckConstraint("weekly_hours >= 0 AND weekly_hours <= 168", name="weekly_hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # pseudonymous, e.g. P-7K3F9Q
    status: Mapped[PatientStatus] = mapped_column(enum_column(PatientStatus, "patient_status"), default="new")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "gender"))
    birth_date: Mapped[date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    # the number a patient call found wrong (core.patients.calls); flagged while ``phone`` still equals it
    wrong_phone: Mapped[str | None] = mapped_column(String(32))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[LocationPrecision] = mapped_column(
        enum_column(LocationPrecision, "location_precision"), default="none"
    )
    location_source: Mapped[str | None] = mapped_column(String(32))
    insurance_type: Mapped[InsuranceType | None] = mapped_column(enum_column(InsuranceType, "insurance_type"))
    insurance_name: Mapped[str | None] = mapped_column(String(100))
    symptoms: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    diagnoses: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)  # ICD-10 chapter V
    previous_therapy_end: Mapped[date | None] = mapped_column(Date)
    two_year_exception: Mapped[str | None] = mapped_column(Text)  # staff note why the 2-year rule is waived
    # [{"weekday": 0..6, "start": "HH:MM", "end": "HH:MM"}]
    availability: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    weekly_hours: Mapped[float] = mapped_column(Float, default=0.0)
    max_distance_km: Mapped[float | None] = mapped_column(Float, default=15.0)
    max_travel_minutes: Mapped[int | None] = mapped_column(Integer)
    transport_mode: Mapped[TransportMode] = mapped_column(
        enum_column(TransportMode, "transport_mode"), default="transit"
    )
    therapist_gender_wish: Mapped[GenderWish] = mapped_column(enum_column(GenderWish, "gender_wish"), default="any")
    procedure_wishes: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)  # VT/TP/AP/ST; empty = any
    setting_wish: Mapped[SettingWish] = mapped_column(enum_column(SettingWish, "setting_wish"), default="individual")
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=lambda: ["de"])
    excluded_therapist_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    contact_language: Mapped[str] = mapped_column(String(2), default="de")
    wants_status_updates: Mapped[bool] = mapped_column(default=True, server_default=true())  # the weekly mail
    notes: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    searches: Mapped[list[Search]] = relationship(back_populates="patient", order_by="Search.started_on")
    consents: Mapped[list[Consent]] = relationship(back_populates="patient")

    __mapper_args__ = {"version_id_col": version}


class ConsentKind(enum.StrEnum):
    HEALTH_DATA = "health_data"  # processing of health data (GDPR Art. 9(2)(a))
    SHARE_PROFILE = "share_profile"  # sharing a pseudonymised profile with therapists


class Consent(Base):
    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_patient_kind", "patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "consent_kind"))
    text_version: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = created_at_column()

    patient: Mapped[Patient] = relationship(back_populates="consents")


class SearchStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    SUCCESSFUL = "successful"
    CANCELLED = "cancelled"


class Search(Base):
    __tablename__ = "search"
    __table_args__ = (
        Index("ix_search_status_started_on", "status", "started_on"),
        Index(
            "ix_search_paused_until",
            "paused_until",
            postgresql_where="status = 'paused'",
        ),
        CheckConstraint("status <> 'paused' OR paused_until IS NOT NULL", name="paused_needs_until"),
        CheckConstraint("max_parallel_inquiries BETWEEN 1 AND 20", name="parallel_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    status: Mapped[SearchStatus] = mapped_column(enum_column(SearchStatus, "search_status"), default="active")
    started_on: Mapped[date] = mapped_column(Date)  # waiting-time priority
    paused_until: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    max_parallel_inquiries: Mapped[int] = mapped_column(Integer, default=3)
    # [{"rule": "distance", "value": 25, "by": "a@b", "reason": "...", "at": iso}]
    relaxations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    excluded_therapist_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship(back_populates="searches")

    __mapper_args__ = {"version_id_col": version}


# Staff search patients by last name without regard to case.
Index("ix_patient_last_name_lower", func.lower(Patient.last_name))

# Name search ignores case, accents and invisible characters (search_fold() and search_full_name() come with
# migration 0007_forms): the trigram index serves LIKE '%x%' on the full name, the pattern index equality and
# prefixes of the last name (duplicate check, one-character search).
Index(
    "ix_patient_full_name_folded",
    func.search_full_name(Patient.first_name, Patient.last_name).label("full_name_folded"),
    postgresql_using="gin",
    postgresql_ops={"full_name_folded": "gin_trgm_ops"},
)
Index(
    "ix_patient_last_name_folded",
    func.search_fold(Patient.last_name).label("last_name_folded"),
    postgresql_ops={"last_name_folded": "text_pattern_ops"},
)
