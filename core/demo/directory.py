"""Practices and therapists of the demo: real postcode centroids, realistic procedures, mixed contact channels."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker

from core.demo.contacts import mail_address, phone_number, slug
from core.demo.draws import pick, spread
from core.demo.hours import draw_phone_hours
from core.demo.markers import DEMO_EXTERNAL_ID_PREFIX
from core.demo.places import PostcodePicker
from core.demo.refs import Ref
from core.demo.vocabulary import (
    BLOCK_REASONS,
    DIAGNOSIS_FOCUS,
    INACTIVE_REASONS,
    STREETS,
    THERAPIST_EXTRA_LANGUAGES,
    THERAPIST_TITLES,
)

Row = dict[str, Any]

PRACTICE_SIZES = {1: 55, 2: 20, 3: 12, 4: 7, 5: 4, 6: 2}  # most practices are run by one therapist
# The primary procedure; VT dominates the German landscape, then TP, AP, ST.
PRIMARY_PROCEDURE = {"VT": 55, "TP": 33, "AP": 8, "ST": 4}
AGE_GROUPS = {("adults",): 80, ("children_youth",): 12, ("adults", "children_youth"): 8}
GROUP_SETTING_SHARE = 0.15  # offer group therapy besides individual sessions


def generate_directory(
    *, count: int, rng: random.Random, fake: Faker, picker: PostcodePicker, today: date, now: datetime
) -> tuple[list[Row], list[Row]]:
    """Return ``count`` therapists grouped into practices: (practice rows, therapist rows)."""
    sizes = _practice_sizes(rng, count)
    n = len(sizes)
    channels = spread(rng, {"email": 85, "phone": 15}, n)
    precisions = spread(rng, {"postcode": 68, "address": 30, "none": 2}, n)
    genders = spread(rng, {"female": 74, "male": 24, "diverse": 1, "unknown": 1}, count)
    statuses = spread(rng, {"active": 90, "blocked": 6, "inactive": 4}, count)
    sources = spread(rng, {"116117": 70, "manual": 20, "demo": 10}, count)
    patient_genders = spread(rng, {"any": 95, "female": 4, "male": 1}, count)
    practices: list[Row] = []
    therapists: list[Row] = []
    for key, size in enumerate(sizes, start=1):
        practice = _practice(
            rng, key=key, channel=channels[key - 1], precision=precisions[key - 1], picker=picker, now=now
        )
        practices.append(practice)
        for _ in range(size):
            index = len(therapists)
            therapist = _therapist(
                rng,
                fake,
                key=index + 1,
                practice=practice,
                solo=size == 1,
                gender=genders[index],
                status=statuses[index],
                source=sources[index],
                patient_gender=patient_genders[index],
                today=today,
                now=now,
            )
            therapists.append(therapist)
        first = therapists[-size]
        practice["name"] = _practice_name(rng, first, size, practice["street"])
        if practice["contact_channel"] == "email":
            practice["email_normalized"] = mail_address(f"praxis-{slug(first['last_name'])}-{key}", rng)
        for therapist in therapists[-size:]:
            if practice["email_normalized"] and (size == 1 or rng.random() < 0.7):
                therapist["email"] = practice["email_normalized"]  # shared practice inbox
            elif practice["email_normalized"]:
                local = f"{slug(therapist['first_name'])}.{slug(therapist['last_name'])}-{therapist['id']}"
                therapist["email"] = mail_address(local, rng)
            if size == 1 or rng.random() < 0.5:
                therapist["phone_hours"] = dict(practice["phone_hours"])  # the practice's Telefonsprechstunde
    return practices, therapists


def _practice_sizes(rng: random.Random, count: int) -> list[int]:
    sizes: list[int] = []
    left = count
    while left > 0:
        size = min(pick(rng, PRACTICE_SIZES), left)
        sizes.append(size)
        left -= size
    return sizes


def _practice(
    rng: random.Random, *, key: int, channel: str, precision: str, picker: PostcodePicker, now: datetime
) -> Row:
    spot = picker.pick(rng)
    located = precision != "none"
    created = now - timedelta(days=rng.randint(200, 1500))
    return {
        "id": key,
        "name": "",
        "email_normalized": None,
        "phone": phone_number(rng),
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        "postcode": spot.plz,
        "city": spot.city,
        # demo practices sit exactly on the postcode centroid, even when "geocoded" to the address
        "latitude": spot.latitude if located else None,
        "longitude": spot.longitude if located else None,
        "location_precision": precision,
        "contact_channel": channel,
        "phone_hours": draw_phone_hours(rng),
        "cooldown_until": None,
        "last_contacted_at": None,
        "created_at": created,
        "updated_at": created,
    }


def _practice_name(rng: random.Random, first: Row, size: int, street: str) -> str:
    if size == 1:
        title = f"{first['title']} " if first["title"] else ""
        return f"Praxis für Psychotherapie {title}{first['first_name']} {first['last_name']}"
    if rng.random() < 0.5:
        return f"Praxisgemeinschaft {first['last_name']} und Kolleg:innen"
    return f"Psychotherapie {street.rsplit(' ', 1)[0]}"


def _therapist(
    rng: random.Random,
    fake: Faker,
    *,
    key: int,
    practice: Row,
    solo: bool,
    gender: str,
    status: str,
    source: str,
    patient_gender: str,
    today: date,
    now: datetime,
) -> Row:
    first_name = {"female": fake.first_name_female, "male": fake.first_name_male}.get(gender, fake.first_name)()
    procedures = draw_procedures(rng)
    age_groups = {entry["age_group"] for entry in procedures}
    age_min, age_max = None, None
    if age_groups == {"children_youth"}:
        age_min, age_max = rng.choice(((None, 21), (3, 21), (12, 21)))
    elif age_groups == {"adults"} and rng.random() < 0.1:
        age_min, age_max = 18, rng.choice((65, 70))
    accepting = pick(rng, {True: 25, False: 35, None: 40})
    reason, until = None, None
    if status == "blocked":
        reason = rng.choice(BLOCK_REASONS)
        until = today + timedelta(days=rng.randint(14, 180)) if rng.random() < 0.5 else None
    elif status == "inactive":
        reason = rng.choice(INACTIVE_REASONS)
    created = practice["created_at"] + timedelta(days=rng.randint(0, 60))
    import_day = today - timedelta(days=(today.weekday() + 1) % 7)  # the weekly import runs on Sundays
    return {
        "id": key,
        "practice_id": Ref("practice", practice["id"]),
        "title": pick(rng, THERAPIST_TITLES),
        "first_name": first_name,
        "last_name": fake.last_name(),
        "gender": gender,
        "street": practice["street"],
        "postcode": practice["postcode"],
        "city": practice["city"],
        "latitude": practice["latitude"],
        "longitude": practice["longitude"],
        "location_precision": practice["location_precision"],
        "location_source": None if practice["latitude"] is None else "postcode_centroid",
        "phone": practice["phone"] if solo or rng.random() < 0.8 else phone_number(rng),
        "email": None,
        "website": f"https://www.example.com/praxis-{practice['id']}" if rng.random() < 0.25 else None,
        "procedures": procedures,
        "languages": ["de", *[code for code, share in THERAPIST_EXTRA_LANGUAGES.items() if rng.random() < share]],
        "phone_hours": {} if solo else draw_phone_hours(rng),
        "pref_age_min": age_min,
        "pref_age_max": age_max,
        "pref_patient_gender": patient_gender,
        "pref_diagnoses": list(rng.choice(DIAGNOSIS_FOCUS)) if rng.random() < 0.06 else [],
        "statutory_licence": rng.random() < 0.9,
        "status": status,
        "status_reason": reason,
        "status_until": until,
        "accepting_patients": accepting,
        "accepting_confirmed_on": None if accepting is None else today - timedelta(days=rng.randint(3, 300)),
        "source": source,
        "external_id": f"{DEMO_EXTERNAL_ID_PREFIX}{key:06d}",
        "last_verified_on": today - timedelta(days=rng.randint(5, 400)) if source != "demo" else None,
        "last_seen_on": import_day if source == "116117" else None,
        "content_hash": None,
        "staff_edited_fields": [],
        "notes": None,
        "created_at": created,
        "updated_at": created,
    }


def draw_procedures(rng: random.Random) -> list[dict[str, str]]:
    """Return the (procedure, setting, age group) entries one therapist offers."""
    primary = pick(rng, PRIMARY_PROCEDURE)
    offered = [primary]
    if primary == "AP" and rng.random() < 0.8:
        offered.append("TP")  # analytic therapists are nearly always licensed for TP too
    elif primary in {"VT", "TP"} and rng.random() < 0.06:
        offered.append("TP" if primary == "VT" else "VT")
    if primary != "ST" and rng.random() < 0.02:
        offered.append("ST")
    age_groups = pick(rng, AGE_GROUPS)
    group = rng.random() < GROUP_SETTING_SHARE
    entries = []
    for procedure in offered:
        for age_group in age_groups:
            entries.append({"procedure": procedure, "setting": "individual", "age_group": age_group})
            if group and procedure == primary:
                entries.append({"procedure": procedure, "setting": "group", "age_group": age_group})
    return entries
