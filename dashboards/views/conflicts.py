"""Conflicts: a therapist accepted a patient who was already placed; offer another waiting patient or close."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core import clock
from core.db import session_scope
from core.errors import WorkbenchError
from core.matching import service as matching
from dashboards import data
from dashboards.components.login import require_user
from dashboards.i18n import say, t
from dashboards.plain_text import literal

user = require_user()
st.title(t("conflicts.title"))
flash = st.session_state.pop("conflicts_flash", None)
if flash:
    getattr(st, flash[0])(flash[1])


def resolve(item_id: int, action: str, other_search_id: int | None, success: str) -> None:
    try:
        with session_scope(data.engine()) as session:
            matching.resolve_conflict(
                session,
                item_id=item_id,
                action=action,
                other_search_id=other_search_id,
                actor=user.email,
                actor_id=user.id,
                now=datetime.now(UTC),
            )
        st.session_state["conflicts_flash"] = ("success", success)
    except WorkbenchError as exc:
        st.session_state["conflicts_flash"] = ("error", say(exc))
    data.clear_matching()


with session_scope(data.engine()) as session:
    conflicts = matching.list_conflicts(session)
    suggestions = {
        c["item_id"]: matching.suggest_waiting_patients(session, therapist_id=c["therapist_id"]) for c in conflicts
    }
if not conflicts:
    st.info(t("conflicts.empty"))
    st.stop()
for c in conflicts:
    with st.container(border=True):
        st.markdown(  # names are data: shown literally, never as Markdown
            t(
                "conflicts.item",
                therapist=literal(c["therapist_name"]),
                patient=c["patient_reference"],
                when=f"{clock.local(c['answered_at']):%d.%m.%Y}" if c["answered_at"] else "—",
                placed=literal(c["placed_with_name"] or "—"),
                placed_on=f"{c['placed_on']:%d.%m.%Y}" if c["placed_on"] else "—",
            )
        )
        if c["answer_message"]:  # the practice's own words, as plain text (no links or images fetched)
            st.text(t("conflicts.message", message=c["answer_message"]))
        waiting = suggestions[c["item_id"]]
        left, right = st.columns([3, 1])
        if waiting:
            options = {w["search_id"]: w for w in waiting}
            other = left.selectbox(
                t("conflicts.suggest"),
                list(options),
                key=f"suggest_{c['item_id']}",
                format_func=lambda s, options=options: " · ".join(
                    str(options[s].get(k))
                    for k in ("patient_reference", "distance_km", "waiting_days")
                    if options[s].get(k) is not None
                ),
            )
            if left.button(t("conflicts.offer"), key=f"offer_{c['item_id']}", type="primary"):
                resolve(c["item_id"], "offer", other, t("conflicts.offered"))
                st.rerun()
        else:
            left.caption(t("conflicts.none_waiting"))
        if right.button(t("conflicts.close"), key=f"close_{c['item_id']}"):
            resolve(c["item_id"], "close", None, t("conflicts.closed"))
            st.rerun()
