"""The quick search in the sidebar: finds patients (name, reference, PLZ) and therapists from any page."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope
from core.patients.queries import quick_search
from dashboards import data
from dashboards.components import read_audit
from dashboards.components.login import current_user
from dashboards.i18n import t
from dashboards.navigation import page_path


def _therapists(session, query: str) -> list[dict]:
    try:
        from core.therapists.service import search as therapist_search
    except ImportError:  # the therapist service is not part of this build
        return []
    return therapist_search(session, query=query, limit=5)


def show(key: str = "quick") -> None:
    query = st.text_input(
        t("quick.label"), key=f"{key}_query", placeholder=t("quick.placeholder"), icon=":material/search:"
    )
    if not query.strip():  # one character is a whole surname in Chinese or Korean (李, 김)
        return
    with session_scope(data.engine()) as session:
        found_patients = quick_search(session, query=query)
        found_therapists = _therapists(session, query)
    if not found_patients and not found_therapists:
        st.caption(t("quick.none"))
        return
    user = current_user()
    if found_patients and user is not None:  # the query may be a name: only the references found are logged
        read_audit.record(
            user, what="quick_search", page="quick_search", references=[p["reference"] for p in found_patients]
        )
    with st.container(border=True):  # results, visibly apart from the menu below
        _results(found_patients, found_therapists)


def _results(found_patients: list[dict], found_therapists: list[dict]) -> None:
    if found_patients:
        st.caption(t("quick.patients"))
        for p in found_patients:
            st.page_link(
                page_path("patient.py"),
                query_params={"id": str(p["id"])},
                icon=":material/person:",
                label=f"{p['last_name']}, {p['first_name']} · {p['reference']} · {p['postcode']}",
            )
    if found_therapists:
        st.caption(t("quick.therapists"))
        for th in found_therapists:
            st.page_link(
                page_path("therapist.py"),
                query_params={"id": str(th["id"])},
                icon=":material/stethoscope:",
                label=f"{th['name']} · {th.get('postcode') or ''}",
            )
