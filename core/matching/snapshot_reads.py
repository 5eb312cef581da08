"""The snapshot's bulk reads: set-based SQL that returns what the filters need, copied straight into arrays.

PostgreSQL computes the per-record values the filters use (a therapist's 16-bit procedure mask, the bits
of the weekdays with phone hours, a patient's available hours per weekday, ages, list columns as text), and
``COPY (...) TO STDOUT`` streams them as CSV that pyarrow parses column-wise: no row objects, no JSON value
decoded in Python (only the few non-empty relaxation lists). Measured nationwide (issue 13): the row-by-row
read with per-value JSON decoding took 7-9 s; this one about 0.3 s.

The therapist side changes rarely, so it is kept between runs in this process (the scheduler runs every job
in one process) and reused while the data version is unchanged. The version is a fingerprint of every row
version of ``therapist`` and ``practice``: any insert, update or delete (by any code path, committed or by
this transaction) creates or removes a row version, whose position (ctid) and transaction (xmin) enter a
64-bit hash sum. It is read in one scan of both tables (about 20 ms for 80,000 rows).

Example:
    frame = therapist_frame(session, therapist_ids=None)   # cached while the version holds
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import text
from sqlalchemy.orm import Session

PROCEDURE_MASK_SQL = """
    (SELECT coalesce(bit_or(1 << ((array_position(ARRAY['VT', 'TP', 'AP', 'ST'], e->>'procedure') - 1) * 4
                                  + (array_position(ARRAY['individual', 'group'], e->>'setting') - 1) * 2
                                  + array_position(ARRAY['adults', 'children_youth'], e->>'age_group') - 1)), 0)
     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.procedures) = 'array' THEN t.procedures
                                    ELSE '[]'::jsonb END) AS e
     WHERE jsonb_typeof(e) = 'object' AND e->>'procedure' IN ('VT', 'TP', 'AP', 'ST')
       AND e->>'setting' IN ('individual', 'group') AND e->>'age_group' IN ('adults', 'children_youth'))
"""
# the practice's known hours: the therapist's own phone hours, else the practice's (see core.matching.filters)
HOURS_DAYS_SQL = """
    (SELECT coalesce(bit_or(1 << d.key::int), 0)
     FROM jsonb_each(CASE WHEN jsonb_typeof(hours.h) = 'object' THEN hours.h ELSE '{}'::jsonb END) AS d
     WHERE d.key ~ '^[0-6]$' AND d.value NOT IN ('null', '[]', '{}', '""', 'false', '0'))
"""
THERAPISTS_SQL = f"""
SELECT t.id AS therapist_id, t.practice_id, t.status, t.status_until,
       coalesce(t.latitude, p.latitude) AS latitude, coalesce(t.longitude, p.longitude) AS longitude,
       t.gender, array_to_string(t.languages, ',') AS languages, t.statutory_licence,
       t.pref_age_min, t.pref_age_max, t.pref_patient_gender, array_to_string(t.pref_diagnoses, ',') AS pref_diagnoses,
       t.accepting_patients, t.accepting_confirmed_on, t.last_verified_on,
       {PROCEDURE_MASK_SQL} AS procedure_mask,
       {HOURS_DAYS_SQL} AS hours_days
FROM therapist t
LEFT JOIN practice p ON p.id = t.practice_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN t.phone_hours IS NOT NULL AND t.phone_hours NOT IN ('{{}}'::jsonb, 'null'::jsonb)
                THEN t.phone_hours ELSE p.phone_hours END AS h
) AS hours
WHERE {{where}}
ORDER BY t.id
"""  # noqa: S608 - fixed SQL pieces; the caller casts ids to int
THERAPIST_TYPES = {
    "therapist_id": pa.int64(),
    "practice_id": pa.float64(),
    "status": pa.string(),
    "status_until": pa.date32(),
    "latitude": pa.float64(),
    "longitude": pa.float64(),
    "gender": pa.string(),
    "languages": pa.string(),
    "statutory_licence": pa.bool_(),
    "pref_age_min": pa.float64(),
    "pref_age_max": pa.float64(),
    "pref_patient_gender": pa.string(),
    "pref_diagnoses": pa.string(),
    "accepting_patients": pa.bool_(),
    "accepting_confirmed_on": pa.date32(),
    "last_verified_on": pa.date32(),
    "procedure_mask": pa.int64(),
    "hours_days": pa.int64(),
}


def _minutes(clock: str) -> str:
    """SQL for the minutes since midnight of an "HH:MM" text (as core.matching.snapshot._clock_minutes)."""
    return f"(split_part({clock}, ':', 1)::int * 60 + coalesce(nullif(split_part({clock}, ':', 2), '')::int, 0))"


AVAILABLE_HOURS_SQL = ",\n".join(
    f"coalesce(sum(greatest(0, {_minutes('w.value->>$end$')} - {_minutes('w.value->>$start$')})) "
    f"FILTER (WHERE (w.value->>'weekday')::int = {day}), 0) / 60.0 AS avail_{day}"
    for day in range(7)
).replace("$", "'")
SEARCHES_SQL = f"""
SELECT s.id AS search_id, s.patient_id, s.status, s.started_on, s.max_parallel_inquiries AS max_parallel,
       CASE WHEN s.relaxations IS NULL OR s.relaxations = '[]'::jsonb THEN '' ELSE s.relaxations::text END
         AS relaxations,
       array_to_string(ARRAY(SELECT DISTINCT x FROM unnest(coalesce(p.excluded_therapist_ids, '{{}}')
                                                        || coalesce(s.excluded_therapist_ids, '{{}}')) AS x
                             ORDER BY x), ',') AS excluded_therapist_ids,
       p.latitude, p.longitude,
       extract(year FROM age(CAST(:today AS date), p.birth_date))::int AS age,
       p.gender, p.insurance_type, array_to_string(p.diagnoses, ',') AS diagnoses,
       p.max_distance_km, p.max_travel_minutes, p.transport_mode, p.therapist_gender_wish,
       array_to_string(p.procedure_wishes, ',') AS procedure_wishes, p.setting_wish,
       array_to_string(p.languages, ',') AS languages,
       hours.*
FROM search s
JOIN patient p ON p.id = s.patient_id
CROSS JOIN LATERAL (
    SELECT {AVAILABLE_HOURS_SQL}
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p.availability) = 'array' THEN p.availability
                                   ELSE '[]'::jsonb END) AS w
    WHERE jsonb_typeof(w.value) = 'object'
) AS hours
WHERE {{where}}
ORDER BY s.started_on, s.id
"""  # noqa: S608 - fixed SQL pieces; ids cast to int, region checked
SEARCH_TYPES = {
    "search_id": pa.int64(),
    "patient_id": pa.int64(),
    "status": pa.string(),
    "started_on": pa.date32(),
    "max_parallel": pa.int64(),
    "relaxations": pa.string(),
    "excluded_therapist_ids": pa.string(),
    "latitude": pa.float64(),
    "longitude": pa.float64(),
    "age": pa.int64(),
    "gender": pa.string(),
    "insurance_type": pa.string(),
    "diagnoses": pa.string(),
    "max_distance_km": pa.float64(),
    "max_travel_minutes": pa.float64(),
    "transport_mode": pa.string(),
    "therapist_gender_wish": pa.string(),
    "procedure_wishes": pa.string(),
    "setting_wish": pa.string(),
    "languages": pa.string(),
    **{f"avail_{day}": pa.float64() for day in range(7)},
}
DATA_VERSION_SQL = """
SELECT current_database(), (SELECT oid FROM pg_database WHERE datname = current_database()),
       pg_postmaster_start_time(),
       (SELECT count(*) FROM therapist), (SELECT coalesce(sum(hashtextextended(ctid::text || xmin::text, 0)), 0)
                                          FROM therapist),
       (SELECT count(*) FROM practice), (SELECT coalesce(sum(hashtextextended(ctid::text || xmin::text, 0)), 0)
                                         FROM practice)
"""


def copy_frame(session: Session, sql: str, types: dict[str, pa.DataType], params: dict[str, Any]) -> pd.DataFrame:
    """Return the rows of ``sql`` (bound ``params``) as a frame, streamed by COPY as CSV and parsed by pyarrow."""
    connection = session.connection()
    statement = text(sql).bindparams(**params) if params else text(sql)
    compiled = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    buffer = io.BytesIO()
    cursor = connection.connection.dbapi_connection.cursor()  # COPY needs the driver's cursor
    try:
        cursor.copy_expert(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
    finally:
        cursor.close()
    buffer.seek(0)
    table = pa_csv.read_csv(
        buffer,
        convert_options=pa_csv.ConvertOptions(
            column_types=types, true_values=["t"], false_values=["f"], strings_can_be_null=False
        ),
    )
    return table.to_pandas(date_as_object=True)


def text_lists(values: pd.Series, cast: type = str) -> np.ndarray:
    """Return one tuple per comma-joined text ("de,en" -> ("de", "en"), "" -> ()), parsing each distinct text once."""
    codes, uniques = pd.factorize(values.fillna("").to_numpy(dtype=object))
    parsed = np.empty(len(uniques), dtype=object)
    parsed[:] = [tuple(cast(part) for part in str(u).split(",")) if u else () for u in uniques]
    return parsed[codes] if len(codes) else np.empty(0, dtype=object)


def therapist_rows(session: Session, *, therapist_ids: Sequence[int] | None) -> pd.DataFrame:
    """Return the active therapists (or exactly ``therapist_ids``) with their filter values, by therapist id."""
    if therapist_ids is not None:
        ids = ",".join(str(int(i)) for i in therapist_ids) or "NULL"
        frame = copy_frame(session, THERAPISTS_SQL.replace("{where}", f"t.id IN ({ids})"), THERAPIST_TYPES, {})
    else:
        frame = copy_frame(session, THERAPISTS_SQL.replace("{where}", "t.status = 'active'"), THERAPIST_TYPES, {})
    frame["languages"] = text_lists(frame["languages"])
    frame["pref_diagnoses"] = text_lists(frame["pref_diagnoses"])
    frame["accepting_patients"] = (
        frame["accepting_patients"].astype(object).where(frame["accepting_patients"].notna(), None)
    )
    return frame


def search_rows(session: Session, *, today: date, region: str | None, search_ids: Sequence[int] | None) -> pd.DataFrame:
    """Return the active searches (of a PLZ region, or exactly ``search_ids``) with their filter values."""
    if search_ids is not None:
        where = f"s.id IN ({','.join(str(int(i)) for i in search_ids) or 'NULL'})"
    else:
        where = "s.status = 'active' AND p.erased_at IS NULL"
    if region is not None:  # checked by the caller: two digits
        where += f" AND p.postcode LIKE '{region}%'"
    frame = copy_frame(session, SEARCHES_SQL.replace("{where}", where), SEARCH_TYPES, {"today": today})
    for column in ("diagnoses", "procedure_wishes", "languages"):
        frame[column] = text_lists(frame[column])
    frame["excluded_therapist_ids"] = text_lists(frame["excluded_therapist_ids"], cast=int)
    relaxations = np.empty(len(frame), dtype=object)
    relaxations[:] = [json.loads(r) if r else [] for r in frame["relaxations"]]  # few searches have any
    frame["relaxations"] = relaxations
    frame["max_travel_minutes"] = (
        frame["max_travel_minutes"].astype(object).where(frame["max_travel_minutes"].notna(), None)
    )
    return frame


class TherapistCache:
    """The last derived therapist frame of this process, with the data version it was read at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._frame: pd.DataFrame | None = None

    def get(self, version: tuple[Any, ...]) -> pd.DataFrame | None:
        with self._lock:
            return self._frame if self._version == version else None

    def put(self, version: tuple[Any, ...], frame: pd.DataFrame) -> None:
        with self._lock:
            self._version, self._frame = version, frame

    def clear(self) -> None:
        with self._lock:
            self._version, self._frame = None, None


def data_version(session: Session) -> tuple[Any, ...]:
    """Return the fingerprint of every therapist and practice row version (see the module docstring)."""
    return tuple(session.execute(text(DATA_VERSION_SQL)).one())
