"""Practice view (?id=N): contact channel, members, and the staff actions split and merge."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.contact import display_phone
from core.db import session_scope
from core.errors import NotFound, WorkbenchError
from core.therapists import overview as overviews
from core.therapists import practices
from core.therapists.phone_hours import format_phone_hours
from dashboards import data
from dashboards.components.login import require_user
from dashboards.i18n import current_language, say, t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

user = require_user()
raw_id = st.query_params.get("id", "")
if not (raw_id.isascii() and raw_id.isdigit()):  # isdigit() alone takes "٧" (Arabic-Indic), int() reads 7
    st.info(t("therapists.practice.missing_id"))
    st.page_link(page_path("therapists.py"), label=t("therapists.back"), icon=":material/arrow_back:")
    st.stop()
try:
    with session_scope(data.engine()) as session:
        view = overviews.practice_overview(session, practice_id=int(raw_id))
except NotFound:
    st.error(t("therapists.practice.not_found", id=raw_id))
    st.page_link(page_path("therapists.py"), label=t("therapists.back"), icon=":material/arrow_back:")
    st.stop()


def run(action, success: str) -> None:
    """Run a practice change in one transaction; flash success or keep the error for the next run."""
    try:
        with session_scope(data.engine()) as session:
            action(session)
    except WorkbenchError as exc:
        st.session_state["practice_error"] = say(exc)
    else:
        data.clear_therapists()
        st.session_state["practice_flash"] = success
    st.rerun()


p = view.practice
st.page_link(page_path("therapists.py"), label=t("therapists.back"), icon=":material/arrow_back:")
st.title(literal(p["name"]))  # names are data: shown literally
st.caption(
    " · ".join(
        filter(
            None,
            [
                p["street"],
                f"{p['postcode'] or ''} {p['city'] or ''}".strip(),
                t(f"therapists.practice.channel.{p['contact_channel']}"),
            ],
        )
    )
)
for kind, key in (("success", "practice_flash"), ("error", "practice_error")):
    message = st.session_state.pop(key, None)
    if message:
        getattr(st, kind)(message)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(t("therapists.practice.members"))
    for member in view.members:
        status = t(f"therapists.status.{member['status']}")
        contact = " · ".join(filter(None, [member["email"], display_phone(member["phone"])]))
        st.page_link(
            page_path("therapist.py"),
            query_params={"id": str(member["id"])},
            icon=":material/person:",
            label=f"{member['name']} · {status} · {contact}",
        )
with right:
    st.subheader(t("therapists.profile.contact"))
    lines = [
        p["email_normalized"],
        display_phone(p["phone"]),
        format_phone_hours(p["phone_hours"], language=current_language()),
    ]
    st.markdown("  \n".join(line for line in lines if line) or "–")
    contacted = p["last_contacted_at"]
    st.caption(
        t("therapists.practice.last_contacted", date=f"{clock.local(contacted):%d.%m.%Y}")
        if contacted
        else t("therapists.practice.never_contacted")
    )
    if p["cooldown_until"]:
        st.caption(t("therapists.practice.cooldown", date=f"{p['cooldown_until']:%d.%m.%Y}"))

if user.role not in {"admin", "staff"}:
    st.caption(t("therapists.practice.readonly"))
    st.stop()

split, merge = st.columns(2, gap="large")
with split, st.form("practice_split"):
    st.markdown(f"**{t('therapists.practice.split')}**")
    st.caption(t("therapists.practice.split_help"))
    names = {m["id"]: m["name"] for m in view.members}
    who = st.selectbox(t("therapists.practice.split_who"), list(names), format_func=names.get, key="split_who")
    reason = st.text_input(t("therapists.practice.reason"), key="split_reason")
    if st.form_submit_button(t("therapists.practice.split_button"), disabled=len(names) < 2):
        run(
            lambda s: practices.split(s, therapist_id=who, actor=user.email, reason=reason or None),
            t("therapists.practice.split_done", name=names[who]),
        )
    if len(names) < 2:
        st.caption(t("therapists.practice.split_alone"))
with merge, st.form("practice_merge"):
    st.markdown(f"**{t('therapists.practice.merge')}**")
    st.caption(t("therapists.practice.merge_help"))
    options = {c.id: f"#{c.id} {c.name} ({c.members})" for c in view.candidates}
    picked = st.selectbox(
        t("therapists.practice.merge_candidate"),
        [None, *options],
        key="merge_candidate",
        format_func=lambda i: options[i] if i else "–",
    )
    typed = st.number_input(t("therapists.practice.merge_id"), min_value=1, value=None, step=1, key="merge_id")
    reason = st.text_input(t("therapists.practice.reason"), key="merge_reason")
    confirmed = st.checkbox(t("therapists.practice.merge_confirm"), key="merge_confirm")
    if not view.candidates:
        st.caption(t("therapists.practice.no_candidates"))
    if st.form_submit_button(t("therapists.practice.merge_button")):
        source = int(typed) if typed else picked
        if not source or not confirmed:
            st.session_state["practice_error"] = t("therapists.practice.merge_pick")
            st.rerun()
        run(
            lambda s: practices.merge(s, source_id=source, target_id=p["id"], actor=user.email, reason=reason or None),
            t("therapists.practice.merge_done", id=source),
        )

if view.audit:
    st.subheader(t("therapists.tab.audit"))
    st.dataframe(
        pd.DataFrame(
            {
                t("therapists.audit.what"): [a["action"] for a in view.audit],
                t("therapists.audit.who"): [a["actor"] for a in view.audit],
                t("therapists.audit.reason"): [a["reason"] or "" for a in view.audit],
            }
        ),
        hide_index=True,
        width="stretch",
    )
