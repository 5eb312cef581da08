"""Read models for the maps: therapist locations with the list's filters, supply and demand per PLZ region.

Example:
    frame = therapist_locations(session, filters=TherapistMapFilter(procedure="VT", accepting="yes"))
    balance = supply_demand_by_region(session)
    balance.frame.loc["101", ["searches", "therapists", "balance"]]   # Berlin-Mitte
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import String, func, select, true, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.geo.models import Postcode
from core.geo.outline import regions_geojson
from core.messages import Message, field_name
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.duplicates import display_name
from core.therapists.models import AgeGroup, Procedure, Setting, Therapist, TherapistStatus

ACCEPTING = ("yes", "no", "unknown")
PLZ_PREFIX = re.compile(r"^\d{1,5}$")
LOCATION_COLUMNS = [
    "id",
    "name",
    "postcode",
    "city",
    "latitude",
    "longitude",
    "precision",
    "status",
    "accepting",
    "procedures",
    "languages",
]


@dataclass(frozen=True)
class TherapistMapFilter:
    """The therapist list's filters; None means "any"."""

    procedure: str | None = None  # VT, TP, AP, ST
    setting: str | None = None  # individual, group
    age_group: str | None = None  # adults, children_youth
    language: str | None = None  # ISO 639-1, e.g. "en"
    status: str | None = TherapistStatus.ACTIVE.value  # active, blocked, inactive
    accepting: str | None = None  # yes, no, unknown (never confirmed)
    plz_prefix: str | None = None  # 1 to 5 leading digits, e.g. "10" for Berlin


def _check_choice(value: str | None, allowed: list[str], *, field: str, example: str) -> None:
    if value is not None and value not in allowed:
        raise ValidationError(
            Message(
                "filter.not_one_of_example",
                "{field} '{value}' is not one of {valid}, e.g. {example}",
                field=field_name(field),
                value=value,
                valid=", ".join(allowed),
                example=example,
            ),
            field=field,
        )


def validate_filter(filters: TherapistMapFilter) -> None:
    """Raise ValidationError naming the first filter value that cannot match anything sensible."""
    _check_choice(filters.procedure, [p.value for p in Procedure], field="procedure", example="VT")
    _check_choice(filters.setting, [s.value for s in Setting], field="setting", example="individual")
    _check_choice(filters.age_group, [a.value for a in AgeGroup], field="age_group", example="adults")
    _check_choice(filters.status, [s.value for s in TherapistStatus], field="status", example="active")
    _check_choice(filters.accepting, list(ACCEPTING), field="accepting", example="yes")
    if filters.language is not None and not re.fullmatch(r"[a-z]{2}", filters.language):
        raise ValidationError(
            Message(
                "filter.language_code", "language '{code}' must be a two-letter code, e.g. en", code=filters.language
            ),
            field="language",
        )
    if filters.plz_prefix is not None and not PLZ_PREFIX.match(filters.plz_prefix):
        raise ValidationError(
            Message(
                "filter.plz_prefix",
                "PLZ prefix '{prefix}' must be 1 to 5 digits, e.g. 10 for Berlin",
                prefix=filters.plz_prefix,
            ),
            field="plz_prefix",
        )


def therapist_locations(session: Session, *, filters: TherapistMapFilter) -> pd.DataFrame:
    """Return the filtered therapists with their location (NaN coordinates where the location is missing)."""
    validate_filter(filters)
    query = select(
        Therapist.id,
        Therapist.title,
        Therapist.first_name,
        Therapist.last_name,
        Therapist.postcode,
        Therapist.city,
        Therapist.latitude,
        Therapist.longitude,
        Therapist.location_precision,
        Therapist.status,
        Therapist.accepting_patients,
        Therapist.procedures,
        Therapist.languages,
    ).order_by(Therapist.last_name, Therapist.first_name, Therapist.id)
    offer = {
        key: value
        for key, value in (
            ("procedure", filters.procedure),
            ("setting", filters.setting),
            ("age_group", filters.age_group),
        )
        if value is not None
    }
    if offer:
        # one offered (procedure, setting, age group) entry must match every chosen part at once
        query = query.where(Therapist.procedures.contains([offer]))
    if filters.language:
        # the dialect's ARRAY knows @> (served by the GIN index on languages)
        query = query.where(type_coerce(Therapist.languages, PG_ARRAY(String)).contains([filters.language]))
    if filters.status:
        query = query.where(Therapist.status == filters.status)
    if filters.accepting == "yes":
        query = query.where(Therapist.accepting_patients.is_(True))
    elif filters.accepting == "no":
        query = query.where(Therapist.accepting_patients.is_(False))
    elif filters.accepting == "unknown":
        query = query.where(Therapist.accepting_patients.is_(None))
    if filters.plz_prefix:
        query = query.where(Therapist.postcode.startswith(filters.plz_prefix, autoescape=True))
    rows = [
        {
            "id": t.id,
            "name": display_name(t.title, t.first_name, t.last_name),
            "postcode": t.postcode or "",
            "city": t.city or "",
            "latitude": np.nan if t.latitude is None else t.latitude,
            "longitude": np.nan if t.longitude is None else t.longitude,
            "precision": t.location_precision.value,
            "status": t.status.value,
            "accepting": "unknown" if t.accepting_patients is None else "yes" if t.accepting_patients else "no",
            "procedures": ", ".join(sorted({p.get("procedure", "") for p in t.procedures or []} - {""})),
            "languages": ", ".join(t.languages or []),
        }
        for t in session.execute(query)
    ]
    return pd.DataFrame(rows, columns=LOCATION_COLUMNS)


# Searches per accepting therapist: the presentation bands of the supply/demand map.
BALANCE_BANDS = [(1.0, "balanced"), (3.0, "tight")]  # above the last band: "short"


def balance_category(searches: int, therapists: int) -> str:
    """Return the supply/demand band of a region.

    Example: ``balance_category(5, 2)`` -> "tight" (2.5 searches per accepting therapist)
    """
    if searches == 0:
        return "no_demand"
    if therapists == 0:
        return "no_supply"
    ratio = searches / therapists
    for limit, name in BALANCE_BANDS:
        if ratio <= limit:
            return name
    return "short"


@dataclass(frozen=True)
class RegionBalance:
    frame: pd.DataFrame  # index region (3 digits); place, searches, therapists, searches_per_therapist, balance
    searches_without_region: int  # active searches whose patient has no valid PLZ
    therapists_without_region: int  # accepting therapists without PLZ


def supply_demand_by_region(session: Session) -> RegionBalance:
    """Return active searches and therapists accepting patients per 3-digit PLZ region (all 671 regions)."""
    region = func.left(Patient.postcode, 3)
    searches = dict(
        session.execute(
            select(region, func.count())
            .select_from(Search)
            .join(Patient, Patient.id == Search.patient_id)
            .where(Search.status == SearchStatus.ACTIVE, Patient.erased_at.is_(None))
            .group_by(region)
        ).all()
    )
    therapist_region = func.left(Therapist.postcode, 3)
    therapists = dict(
        session.execute(
            select(therapist_region, func.count())
            .where(Therapist.status == TherapistStatus.ACTIVE, Therapist.accepting_patients.is_(true()))
            .group_by(therapist_region)
        ).all()
    )
    regions = [f["properties"]["region"] for f in regions_geojson()["features"]]
    # the region's name: the place most of its postcodes belong to
    places = dict(
        session.execute(
            select(Postcode.region, func.mode().within_group(Postcode.place)).group_by(Postcode.region)
        ).all()
    )
    frame = pd.DataFrame(
        {
            "place": [places.get(r) or "" for r in regions],
            "searches": [int(searches.get(r, 0)) for r in regions],
            "therapists": [int(therapists.get(r, 0)) for r in regions],
        },
        index=pd.Index(regions, name="region"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["searches_per_therapist"] = np.where(
            frame["therapists"] > 0, frame["searches"] / frame["therapists"].clip(lower=1), np.inf
        )
    frame.loc[frame["searches"] == 0, "searches_per_therapist"] = 0.0
    frame["balance"] = [balance_category(s, t) for s, t in zip(frame["searches"], frame["therapists"], strict=True)]
    known = set(regions)
    return RegionBalance(
        frame=frame,
        searches_without_region=sum(n for r, n in searches.items() if r not in known),
        therapists_without_region=sum(n for r, n in therapists.items() if r not in known),
    )


def region_features(balance: pd.DataFrame) -> dict:
    """Return the region shapes as GeoJSON with each region's row of ``balance`` in its properties."""
    collection = json.loads(json.dumps(regions_geojson()))  # a copy: the shipped shapes stay untouched
    for feature in collection["features"]:
        region = feature["properties"]["region"]
        if region in balance.index:
            row = balance.loc[region]
            for key, value in row.items():
                value = value.item() if hasattr(value, "item") else value
                # JSON has no Infinity: "no accepting therapist" stays visible through the balance band
                feature["properties"][key] = None if isinstance(value, float) and not np.isfinite(value) else value
    return collection


def therapists_near(
    session: Session, *, latitude: float, longitude: float, radius_km: float, limit: int = 500
) -> pd.DataFrame:
    """Return active therapists within ``radius_km`` of a point, nearest first (bounding box in SQL, exact after).

    Example: ``therapists_near(session, latitude=52.53, longitude=13.38, radius_km=15)``
    """
    from core.geo.distance import haversine_km

    lat_span = float(radius_km) / 111.0  # one degree of latitude is about 111 km everywhere
    latitude, longitude = float(latitude), float(longitude)
    # plain floats: psycopg2 would render numpy 2 scalars as "np.float64(...)" inside the SQL
    lon_span = float(radius_km / max(1e-6, 111.0 * np.cos(np.radians(latitude))))
    rows = session.execute(
        select(
            Therapist.id,
            Therapist.title,
            Therapist.first_name,
            Therapist.last_name,
            Therapist.postcode,
            Therapist.city,
            Therapist.latitude,
            Therapist.longitude,
            Therapist.accepting_patients,
        ).where(
            Therapist.status == "active",
            Therapist.latitude.between(latitude - lat_span, latitude + lat_span),
            Therapist.longitude.between(longitude - lon_span, longitude + lon_span),
        )
    ).all()
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "name": display_name(r.title, r.first_name, r.last_name),
                "postcode": r.postcode,
                "city": r.city or "",
                "latitude": r.latitude,
                "longitude": r.longitude,
                "accepting": "unknown" if r.accepting_patients is None else "yes" if r.accepting_patients else "no",
            }
            for r in rows
        ],
        columns=["id", "name", "postcode", "city", "latitude", "longitude", "accepting"],
    )
    if frame.empty:
        return frame.assign(distance_km=pd.Series(dtype=float))
    frame["distance_km"] = haversine_km(
        latitude, longitude, frame["latitude"].to_numpy(), frame["longitude"].to_numpy()
    )
    return frame[frame["distance_km"] <= radius_km].sort_values("distance_km").head(limit).reset_index(drop=True)
