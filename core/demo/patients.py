"""Demo patients: synthetic people with needs, preferences and availability; their searches come from history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from faker import Faker

from core.demo.availability import draw_windows, weekly_hours
from core.demo.contacts import mail_address, phone_number, slug
from core.demo.draws import pick, spread
from core.demo.markers import DEMO_NOTE
from core.demo.places import PostcodePicker
from core.demo.refs import Ref
from core.demo.vocabulary import (
    DIAGNOSES,
    PATIENT_LANGUAGES,
    PRIVATE_INSURERS,
    STATUTORY_INSURERS,
    STREETS,
    SUBSIDY_BODIES,
)
from core.patients.vocabulary import SYMPTOMS

Row = dict[str, Any]

HISTORY_DAYS = 182  # six months of searches before today
NEW_PATIENT_DAYS = 10  # patients still "new" registered within the last days
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: references are read over the phone
RADIUS_KM = {"car": (15, 25, 30, 40), "transit": (8, 10, 15, 20), "bike": (5, 8, 10), "foot": (2, 3, 5)}
PROCEDURE_WISHES = {(): 55, ("VT",): 22, ("TP",): 10, ("TP", "VT"): 8, ("AP",): 2, ("ST",): 2, ("AP", "TP"): 1}


@dataclass
class PatientDraft:
    """A patient row plus what the history needs to know about them."""

    row: Row
    age: int
    registered_at: datetime
    searching: bool  # False: still "new", no search yet


def generate_patients(
    *, count: int, therapists: int, rng: random.Random, fake: Faker, picker: PostcodePicker, today: date, now: datetime
) -> list[PatientDraft]:
    """Return ``count`` synthetic patients; about 5 % are new, the rest register over six months."""
    searching = spread(rng, {True: 95, False: 5}, count)
    genders = spread(rng, {"female": 62, "male": 34, "diverse": 2, "unknown": 2}, count)
    insurances = spread(rng, {"statutory": 85, "private": 8, "subsidy": 3, "self_pay": 2}, count)
    precisions = spread(rng, {"postcode": 70, "address": 27, "none": 3}, count)
    transports = spread(rng, {"transit": 50, "car": 25, "bike": 15, "foot": 10}, count)
    gender_wishes = spread(rng, {"any": 70, "female": 25, "male": 5}, count)
    setting_wishes = spread(rng, {"individual": 70, "either": 25, "group": 5}, count)
    references = _references(rng, count)
    drafts = []
    for index in range(count):
        registered_at = _registered_at(rng, searching[index], today, now)
        draft = _patient(
            rng,
            fake,
            key=index + 1,
            reference=references[index],
            gender=genders[index],
            insurance=insurances[index] if searching[index] or rng.random() < 0.6 else None,
            precision=precisions[index],
            transport=transports[index],
            gender_wish=gender_wishes[index],
            setting_wish=setting_wishes[index],
            picker=picker,
            today=today,
            therapists=therapists,
            registered_at=registered_at,
        )
        drafts.append(PatientDraft(row=draft[0], age=draft[1], registered_at=registered_at, searching=searching[index]))
    if count >= 20 and not any(d.searching and d.registered_at.date() == today for d in drafts):
        # at least one search started this morning, after the matching run: "no inquiry yet" is visible
        fresh = next(d for d in drafts if d.searching)
        fresh.registered_at = now - timedelta(minutes=45)
        fresh.row["created_at"] = fresh.row["updated_at"] = fresh.registered_at
    return drafts


def _registered_at(rng: random.Random, searching: bool, today: date, now: datetime) -> datetime:
    days_ago = rng.randint(0, HISTORY_DAYS) if searching else rng.randint(0, NEW_PATIENT_DAYS)
    if days_ago == 0:
        return now - timedelta(minutes=rng.randint(10, 180))
    day = today - timedelta(days=days_ago)
    return datetime.combine(day, time(8, 0), now.tzinfo) + timedelta(minutes=rng.randint(0, 9 * 60))


def _patient(
    rng: random.Random,
    fake: Faker,
    *,
    key: int,
    reference: str,
    gender: str,
    insurance: str | None,
    precision: str,
    transport: str,
    gender_wish: str,
    setting_wish: str,
    picker: PostcodePicker,
    today: date,
    therapists: int,
    registered_at: datetime,
) -> tuple[Row, int]:
    first_name = {"female": fake.first_name_female, "male": fake.first_name_male}.get(gender, fake.first_name)()
    last_name = fake.last_name()
    age = rng.randint(14, 17) if rng.random() < 0.05 else int(rng.triangular(18, 75, 28))
    birth_date = today - timedelta(days=age * 365 + rng.randint(0, 364))
    spot = picker.pick(rng)
    latitude = longitude = None
    if precision == "postcode":
        latitude, longitude = spot.latitude, spot.longitude
    elif precision == "address":
        # an address lies somewhere around its postcode centroid, within about a kilometre
        latitude = round(spot.latitude + rng.uniform(-0.009, 0.009), 6)
        longitude = round(spot.longitude + rng.uniform(-0.013, 0.013), 6)
    windows = draw_windows(rng, flexible=rng.random() < 0.7)
    languages = list(pick(rng, PATIENT_LANGUAGES))
    travel_minutes = rng.choice((30, 45, 60)) if rng.random() < 0.1 else None
    previous_end, exception = None, None
    if rng.random() < 0.25:
        previous_end = today - timedelta(days=rng.randint(800, 3650))
    elif rng.random() < 0.05:
        previous_end = today - timedelta(days=rng.randint(200, 700))
        exception = "Vorherige Therapie wegen Umzugs abgebrochen; Ausnahme mit der Krankenkasse geklärt."
    return {
        "id": key,
        "reference": reference,
        "status": "new",
        "first_name": first_name,
        "last_name": last_name,
        "gender": gender,
        "birth_date": birth_date,
        "email": mail_address(f"{slug(first_name)}.{slug(last_name)}-{key}", rng) if rng.random() < 0.85 else None,
        "phone": phone_number(rng) if rng.random() < 0.9 else None,
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 150)}"
        if precision == "address" or rng.random() < 0.5
        else None,
        "postcode": spot.plz,
        "city": spot.city,
        "latitude": latitude,
        "longitude": longitude,
        "location_precision": precision,
        "location_source": {"postcode": "postcode_centroid", "address": "demo_address"}.get(precision),
        "insurance_type": insurance,
        "insurance_name": _insurer(rng, insurance),
        "symptoms": rng.sample(SYMPTOMS, rng.randint(1, 4)),
        "diagnoses": sorted(rng.sample(DIAGNOSES, rng.randint(1, 2))) if rng.random() < 0.4 else [],
        "previous_therapy_end": previous_end,
        "two_year_exception": exception,
        "availability": windows,
        "weekly_hours": weekly_hours(windows),
        "max_distance_km": None if travel_minutes else float(rng.choice(RADIUS_KM[transport])),
        "max_travel_minutes": travel_minutes,
        "transport_mode": transport,
        "therapist_gender_wish": gender_wish,
        "procedure_wishes": list(pick(rng, PROCEDURE_WISHES)),
        "setting_wish": setting_wish,
        "languages": languages,
        "excluded_therapist_ids": [Ref("therapist", rng.randint(1, therapists))]
        if therapists and rng.random() < 0.02
        else [],
        "contact_language": "de" if "de" in languages else "en",
        "notes": DEMO_NOTE,
        "erased_at": None,
        "created_at": registered_at,
        "updated_at": registered_at,
    }, age


def _insurer(rng: random.Random, insurance: str | None) -> str | None:
    names = {"statutory": STATUTORY_INSURERS, "private": PRIVATE_INSURERS, "subsidy": SUBSIDY_BODIES}
    return rng.choice(names[insurance]) if insurance in names else None


def _references(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    references = []
    while len(references) < count:
        reference = "P-" + "".join(rng.choices(REFERENCE_ALPHABET, k=6))
        if reference not in seen:
            seen.add(reference)
            references.append(reference)
    return references
