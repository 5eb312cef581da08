"""Eigene Auswertungen: build a report from whitelisted metrics and dimensions, save it, share it, download it."""

from __future__ import annotations

import json

import streamlit as st

from core.db import session_scope
from core.errors import ConcurrentEdit, NotFound, ValidationError
from core.reports import service as reports
from core.warehouse.reports import ReportDefinition, validate
from dashboards import data
from dashboards.components import report_builder, warehouse
from dashboards.components.login import require_user
from dashboards.i18n import say, t

KEY = "reports"
SHOWN = "reports_shown"  # the definition (JSON) whose chart and table are on screen
PICKED = "reports_picked"  # the selectbox of saved reports
NEXT = "reports_pick_next"  # a report to select on the next run (after saving or deleting)
FLASH = "reports_flash"
NEW = 0  # the picker's entry for a new report (None would show Streamlit's "Choose an option")

user = require_user()
st.title(t("reports.title"))
st.caption(t("reports.intro"))
build = warehouse.show_build(user=user, key=KEY)
if build is None:
    st.stop()

with session_scope(data.engine()) as session:
    saved = {
        r.id: {"name": r.name, "own": r.owner_id == user.id, "owner": r.owner.display_name or r.owner.email,
               "shared": r.shared, "version": r.version, "definition": r.definition}
        for r in reports.get_all(session, user_id=user.id)
    }  # fmt: skip


def _open() -> None:
    picked = saved.get(st.session_state.get(PICKED))
    if picked is None:
        return
    definition = ReportDefinition.from_json(picked["definition"])
    report_builder.load(definition, key=KEY)
    st.session_state[SHOWN] = json.dumps(definition.to_json())
    st.session_state[f"{KEY}_name"] = picked["name"]
    st.session_state[f"{KEY}_share"] = picked["shared"]


if NEXT in st.session_state:
    st.session_state[PICKED] = st.session_state.pop(NEXT)
    _open()
if st.session_state.get(PICKED) not in saved:
    st.session_state[PICKED] = NEW
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))


def _title(report_id: int) -> str:
    if report_id == NEW:
        return t("reports.saved.none")
    report = saved[report_id]
    return report["name"] if report["own"] else t("reports.saved.shared_by", name=report["name"], owner=report["owner"])


st.selectbox(t("reports.saved"), [NEW, *saved], format_func=_title, key=PICKED, on_change=_open)
if not saved:
    st.caption(t("reports.saved.empty"))
picked_id = st.session_state.get(PICKED)
picked = saved.get(picked_id)

definition, submitted = report_builder.show(build=build, key=KEY)
if submitted:
    try:
        validate(definition)
        st.session_state[SHOWN] = json.dumps(definition.to_json())
    except ValidationError as exc:
        st.error(say(exc))
if SHOWN not in st.session_state:  # first visit: show the form's starting report at once
    st.session_state[SHOWN] = json.dumps(definition.to_json())
shown = ReportDefinition.from_json(json.loads(st.session_state[SHOWN]))
report_builder.result(shown, build=build, user=user, name=f"auswertung_{shown.metric}", key=KEY)

st.divider()
if picked is not None and not picked["own"]:
    st.info(t("reports.colleague", owner=picked["owner"]))
left, right = st.columns([3, 1], vertical_alignment="bottom")
name = left.text_input(t("reports.name"), key=f"{KEY}_name", max_chars=120)
shared = right.checkbox(t("reports.shared"), key=f"{KEY}_share")
own = picked is not None and picked["own"]
buttons = st.columns(3)
try:
    if own and buttons[0].button(t("reports.save_changes"), icon=":material/save:", type="primary"):
        with session_scope(data.engine()) as session:
            report = reports.update(session, owner=user, report_id=picked_id, version=picked["version"],
                                    name=name, definition=shown, shared=shared)  # fmt: skip
            st.session_state[FLASH] = t("reports.updated_ok", name=report.name)
        st.session_state[NEXT] = picked_id
        st.rerun()
    if buttons[1 if own else 0].button(t("reports.save_as" if own else "reports.save"), icon=":material/add:"):
        with session_scope(data.engine()) as session:
            report = reports.create(session, owner=user, name=name, definition=shown, shared=shared)
            st.session_state[FLASH] = t("reports.saved_ok", name=report.name)
            st.session_state[NEXT] = report.id
        st.rerun()
    if own and buttons[2].button(t("reports.delete"), icon=":material/delete:"):
        with session_scope(data.engine()) as session:
            reports.delete(session, owner=user, report_id=picked_id)
        st.session_state[FLASH] = t("reports.deleted_ok", name=picked["name"])
        st.session_state[NEXT] = NEW
        st.rerun()
except (ValidationError, ConcurrentEdit, NotFound) as exc:
    st.error(say(exc))
