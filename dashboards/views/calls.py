"""Daily call list: scheduled calls grouped by 5-minute slot, with script and outcome recording."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core import clock
from core.communication import calls
from core.config import get_settings
from core.contact import display_phone
from core.db import session_scope
from core.errors import WorkbenchError
from core.matching.models import ItemOutcome
from dashboards import data
from dashboards.components import read_audit
from dashboards.components.login import require_user
from dashboards.i18n import current_language, say, t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

ANSWERS = ["", "accepted", "declined_capacity", "declined_unsuitable", "declined_other"]
OUTCOMES = [o.value for o in calls.CallOutcome]

user = require_user()
st.title(t("followup.calls.title"))
for kind, message in st.session_state.pop("calls_flash", []):
    getattr(st, kind)(message)
tz = get_settings().timezone
day = st.date_input(t("followup.calls.day"), value=clock.today(), format="DD.MM.YYYY")


def save(call: dict, outcome: str, answers: dict[int, str], notes: str) -> None:
    flash = st.session_state.setdefault("calls_flash", [])
    try:
        with session_scope(data.engine()) as session:
            follow = calls.record_outcome(
                session,
                call_id=call["call_id"],
                outcome=outcome,
                answers=answers,
                notes=notes,
                actor=user.email,
                actor_id=user.id,
                now=datetime.now(UTC),
                expected_version=call["version"],
            )
    except WorkbenchError as exc:
        st.error(say(exc))
        return
    flash.append(("success", t("followup.calls.saved")))
    references = {p["item_id"]: p["reference"] for p in call["patients"]}
    for item_id in follow["conflict_item_ids"]:  # placed meanwhile: the practice must not be promised the patient
        flash.append(("warning", f"{references.get(item_id, item_id)}: {t('answers.conflict')}"))
    if follow["next_call_id"]:
        flash.append(("info", t("followup.calls.rescheduled")))
    if follow["expired"]:
        flash.append(("warning", t("followup.calls.expired")))
    data.clear_matching()
    st.rerun()


with session_scope(data.engine()) as session:
    rows = calls.call_list(session, day=day, tz=tz, language=current_language())
if not rows:
    st.info(t("followup.calls.empty"))
    st.stop()

shown = [p["reference"] for r in rows for p in r["patients"]]
read_audit.record(
    user,
    what="call_list",
    page="calls",
    references=shown,
    details={"day": day.isoformat(), "calls": [r["call_id"] for r in rows]},
)
groups: dict[str, list[dict]] = {}
for row in rows:
    groups.setdefault(t("followup.calls.overdue") if row["overdue"] else row["slot"], []).append(row)
for label, group in groups.items():
    st.subheader(label if label == t("followup.calls.overdue") else t("followup.calls.slot", slot=label))
    for call in group:
        with st.container(border=True):
            st.markdown(
                t(
                    "followup.calls.card",
                    therapist=literal(call["therapist"]),  # data, shown literally
                    attempt=call["attempt"],
                    phone=display_phone(call["phone"]) or t("followup.calls.no_phone"),  # as staff dial it
                    hours=call["hours"],
                )
            )
            if call["inquiry_id"]:
                st.page_link(
                    page_path("inquiry_thread.py"),
                    label=t("followup.calls.inquiry", reference=call["inquiry_reference"]),
                    query_params={"id": call["inquiry_id"]},
                )
            st.caption(
                t(
                    "followup.calls.script",
                    reference=call["inquiry_reference"] or "-",
                    sent=f"{call['sent_on']:%d.%m.%Y}" if call["sent_on"] else "-",
                    count=len(call["patients"]),
                )
            )
            if call["patients"]:
                st.table(
                    {
                        t("followup.calls.patients"): [p["reference"] for p in call["patients"]],
                        t("followup.timeline.status"): [t(f"outcome.{p['outcome']}") for p in call["patients"]],
                    }
                )
            with st.form(f"call_{call['call_id']}", clear_on_submit=False):
                outcome = st.radio(
                    t("followup.calls.outcome"),
                    OUTCOMES,
                    horizontal=True,
                    format_func=lambda o: t(f"followup.calls.outcome.{o}"),
                    key=f"outcome_{call['call_id']}",
                )
                answers = {}
                for patient in call["patients"]:
                    # withdrawn too: the patient may be placed while staff dial, and the practice's offer must
                    # still be recorded (as a conflict) when the form is sent
                    if patient["outcome"] in (ItemOutcome.PENDING, ItemOutcome.WITHDRAWN):
                        answers[patient["item_id"]] = st.selectbox(
                            t("followup.calls.answer", reference=patient["reference"]),
                            ANSWERS,
                            format_func=lambda a: t(f"outcome.{a}") if a else t("followup.calls.answer.none"),
                            key=f"answer_{call['call_id']}_{patient['item_id']}",
                        )
                notes = st.text_area(t("followup.calls.notes"), key=f"notes_{call['call_id']}")
                if st.form_submit_button(t("followup.calls.save")):
                    save(call, outcome, answers if outcome == "reached" else {}, notes)
