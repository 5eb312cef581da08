"""All caching of the dashboards: engines and reference data as resources, frames with a TTL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from core.config import get_settings


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """Return the process-wide database engine (starts the embedded server if DATABASE_URL is unset)."""
    from core.db import get_engine

    return get_engine()


@st.cache_data(ttl=10, show_spinner=False)
def system_status() -> dict[str, Any]:
    """Return the system status, refreshed at most every 10 seconds."""
    from core.operations.status import system_status as compute

    return compute(engine(), get_settings(), now=datetime.now(UTC))


def clear_status() -> None:
    system_status.clear()


# --- patients --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=30, show_spinner=False)
def patient_page(filters: tuple, sort: str, page: int, page_size: int, today) -> dict[str, Any]:
    """Return one page of the patient list (filters as a hashable tuple of PatientFilters fields)."""
    from core.db import session_scope
    from core.patients.queries import PatientFilters, list_patients

    text, prefix, statuses, insurances, waiting = filters
    with session_scope(engine()) as session:
        result = list_patients(
            session,
            filters=PatientFilters(
                text=text,
                postcode_prefix=prefix,
                statuses=list(statuses),
                insurance_types=list(insurances),
                min_waiting_days=waiting,
            ),
            today=today,
            sort=sort,
            page=page,
            page_size=page_size,
        )
    return {"rows": result.rows, "total": result.total, "pages": result.pages, "page": result.page}


def clear_patients() -> None:
    patient_page.clear()


# --- geo (maps) ------------------------------------------------------------------------------------------------


@st.cache_data(ttl=60, show_spinner=False)
def therapist_locations(filters: tuple) -> Any:
    """Return the therapists for the map (``filters``: the TherapistMapFilter fields as a tuple)."""
    from core.db import session_scope
    from core.geo.service import TherapistMapFilter
    from core.geo.service import therapist_locations as load

    with session_scope(engine()) as session:
        return load(session, filters=TherapistMapFilter(*filters))


@st.cache_data(ttl=300, show_spinner=False)
def supply_demand() -> dict[str, Any]:
    """Return active searches vs accepting therapists per 3-digit PLZ region, refreshed every 5 minutes."""
    from core.db import session_scope
    from core.geo.service import supply_demand_by_region

    with session_scope(engine()) as session:
        balance = supply_demand_by_region(session)
    return {
        "frame": balance.frame,
        "searches_without_region": balance.searches_without_region,
        "therapists_without_region": balance.therapists_without_region,
    }


def clear_geo() -> None:
    therapist_locations.clear()
    supply_demand.clear()


# --- therapists -------------------------------------------------------------------------------------------------


@st.cache_data(ttl=30, show_spinner=False)
def therapist_page(filters: tuple, sort: str, descending: bool, page: int, page_size: int) -> dict[str, Any]:
    """Return one page of the therapist list (``filters``: the TherapistFilter fields as a tuple)."""
    from core.db import session_scope
    from core.therapists.service import TherapistFilter, get_all

    with session_scope(engine()) as session:
        result = get_all(
            session, filters=TherapistFilter(*filters), sort=sort, descending=descending, page=page, page_size=page_size
        )
    return {"rows": result.rows, "total": result.total, "pages": result.pages, "page": result.page}


def clear_therapists() -> None:
    therapist_page.clear()


# --- matching --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=15, show_spinner=False)
def proposals() -> list[dict[str, Any]]:
    """Return the unreviewed proposals grouped by inquiry (see core.matching.queries.list_proposals)."""
    from core.db import session_scope
    from core.matching.queries import list_proposals

    with session_scope(engine()) as session:
        return list_proposals(session)


@st.cache_data(ttl=15, show_spinner=False)
def open_inquiries() -> list[dict[str, Any]]:
    """Return the inquiries that wait for answers."""
    from core.db import session_scope
    from core.matching.queries import open_inquiries_for_answers

    with session_scope(engine()) as session:
        return open_inquiries_for_answers(session)


def clear_matching() -> None:
    proposals.clear()
    open_inquiries.clear()
    clear_patients()


# --- communication: mailbox and outbox (sender) ----------------------------------------------------------------


@st.cache_data(ttl=5, show_spinner=False)
def caught_mail(limit: int = 200) -> list[Any]:
    """Return the mails the local catcher stored in DATA_DIR/mailbox, newest first."""
    from core.communication.catcher import read_mailbox
    from core.config import get_settings

    return read_mailbox(get_settings().data_dir / "mailbox", limit=limit)


@st.cache_data(ttl=10, show_spinner=False)
def outbox_state() -> dict[str, Any]:
    """Return the outbox counts per status and the dead / to-review rows (core.communication.sender.outbox_state)."""
    from core.communication.sender import outbox_state as state
    from core.db import session_scope

    with session_scope(engine()) as session:
        return state(session)


def clear_mailbox() -> None:
    caught_mail.clear()
    outbox_state.clear()


@st.cache_data(ttl=3600, show_spinner=False, max_entries=64)
def warehouse_mart(name: str, build: str, order_by: str | None = None) -> Any:
    """Return one mart of the published warehouse build ``build`` (the build id keys the cache)."""
    from core.warehouse.read import read_mart

    return read_mart(name, order_by=order_by)


@st.cache_data(ttl=3600, show_spinner=False, max_entries=64)
def warehouse_mart_rows(name: str, build: str, where: tuple[tuple[str, Any], ...], order_by: str | None = None) -> Any:
    """Return the rows of one mart matching ``where`` (column, value pairs), filtered in DuckDB."""
    from core.warehouse.read import read_mart_rows

    return read_mart_rows(name, where=dict(where), order_by=order_by)


@st.cache_resource(show_spinner=False)
def region_centres() -> Any:
    """Return the centre (mean of its postcodes' centroids) of every 3-digit PLZ region, indexed by region."""
    import pandas as pd

    from core.geo.outline import postcode_centroids

    codes, points = postcode_centroids()
    frame = pd.DataFrame({"region": [code[:3] for code in codes], "latitude": points[:, 0], "longitude": points[:, 1]})
    return frame.groupby("region")[["latitude", "longitude"]].mean()


def warehouse_build() -> Any:
    """Return the published build (not cached: resolving the link is cheap, and a rebuild must show at once)."""
    from core.warehouse.read import current_build

    return current_build()


@st.cache_data(ttl=3600, show_spinner=False, max_entries=128)
def report_frame(definition: str, build: str) -> Any:
    """Return a custom report (its definition as JSON text) over build ``build`` (the build id keys the cache)."""
    import json

    from core.warehouse.reports import ReportDefinition, run_report

    return run_report(ReportDefinition.from_json(json.loads(definition)))


@st.cache_data(ttl=3600, show_spinner=False, max_entries=32)
def report_filter_values(dimensions: tuple[str, ...], build: str) -> dict[str, list[str]]:
    """Return the values each report filter in ``dimensions`` offers in build ``build`` (one connection)."""
    from core.warehouse.reports import filter_value_lists

    return filter_value_lists(dimensions)
