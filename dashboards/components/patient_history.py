"""Read-only parts of the patient page: wishes, search and inquiry timeline, communication, audit."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import clock
from core.patients.vocabulary import LANGUAGES
from dashboards import formatting
from dashboards.i18n import CATALOG, audit_action, current_language, t
from dashboards.plain_text import literal


def show_wishes(p: dict[str, Any]) -> None:
    rows = {
        t("form.max_distance_km"): f"{formatting.number(p['max_distance_km'])} km" if p["max_distance_km"] else "—",
        t("form.max_travel_minutes"): f"{p['max_travel_minutes']} min" if p["max_travel_minutes"] else "—",
        t("form.transport_mode"): t(f"transport.{p['transport_mode'].value}"),
        t("form.therapist_gender_wish"): t(f"gender_wish.{p['therapist_gender_wish'].value}"),
        t("form.procedure_wishes"): ", ".join(p["procedure_wishes"]) or "—",
        t("form.setting_wish"): t(f"setting.{p['setting_wish'].value}"),
        t("form.languages"): ", ".join(LANGUAGES.get(c, c) for c in p["languages"]),
        t("form.symptoms"): ", ".join(p["symptoms"]) or "—",
        t("form.diagnoses"): ", ".join(p["diagnoses"]) or "—",
    }
    st.table(pd.DataFrame({"": list(rows.values())}, index=list(rows)))


def show_timeline(events: list[dict[str, Any]]) -> None:
    if not events:
        st.info(t("patient.timeline.empty"))
        return
    lines = []
    for event in events:
        when = f"{event['when']:%d.%m.%Y}"
        if event["kind"] == "search":
            lines.append(f"**{when}** · " + t("patient.timeline.search", status=t(f"search.status.{event['status']}")))
        elif event["kind"] == "inquiry":
            lines.append(
                f"**{when}** · "
                + t(
                    "patient.timeline.inquiry",
                    reference=event["reference"],
                    therapist=literal(event["therapist"]),  # data, shown literally
                    outcome=t(f"outcome.{event['outcome']}"),
                )
            )
        else:
            lines.append(f"**{when}** · :green[{t('search.status.successful')}]")
    st.markdown("\n".join(f"- {line}" for line in lines))


def show_audit(rows: list[dict[str, Any]]) -> None:
    if not rows:
        st.info(t("patient.audit.empty"))
        return
    frame = pd.DataFrame(
        {
            t("audit.col.when"): [formatting.moment(clock.local(r["when"])) for r in rows],
            t("audit.col.actor"): [r["actor"] for r in rows],
            t("audit.col.action"): [audit_action(r["action"]) for r in rows],
            t("audit.col.fields"): [", ".join(_field_label(f) for f in r["fields"].split(", ") if f) for r in rows],
            t("audit.col.reason"): [r["reason"] for r in rows],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _field_label(field: str) -> str:
    key = f"field.{field}"
    return t(key) if key in CATALOG[current_language()] else field
