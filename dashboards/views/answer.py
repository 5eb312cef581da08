"""Public answer page (no login): a practice answers for one patient through the signed link in our inquiry.

Deliberately no require_user(): the signed, expiring token in ?token=... is the only credential and names
exactly one inquiry item; the page shows only the pseudonymous summary. The core (answer_page) decides
everything: a reused link shows the recorded answer, a tampered or expired one says so; neither writes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core import clock
from core.communication import answer_page, links
from core.communication.templates import label
from core.db import session_scope
from core.errors import WorkbenchError
from dashboards import data, formatting
from dashboards.i18n import current_language, language_switch, say, t
from dashboards.plain_text import literal

_, switch = st.columns([3, 1])  # public: no sidebar, so the language choice sits on the page
with switch:
    language_switch(key="answer_language")
st.title(t("communication.answer.title"))
token = st.query_params.get("token")
if not token:
    st.info(t("communication.answer.no_token"))
    st.stop()


def link_error(exc: links.LinkError) -> None:
    st.error(t(f"communication.answer.{exc.reason}"))


try:
    with session_scope(data.engine()) as session:
        view = answer_page.load(session, token=token, now=datetime.now(UTC))
except links.LinkError as exc:
    link_error(exc)
    st.stop()

language = current_language()
# Free text (names, symptoms, messages) is shown literally: st.markdown and st.table render Markdown, so an
# image link in it would make every viewer's browser fetch that address.
st.markdown(t("communication.answer.intro", reference=view.reference, therapist=literal(view.therapist_name)))
st.subheader(t("communication.answer.summary"))
summary = view.summary
rows = [
    ("reference", summary["patient_reference"]),
    ("age", str(summary["age"])),
    ("gender", label(summary["gender"], language)),
    ("insurance", label(summary["insurance_type"], language)),
    ("symptoms", summary["symptoms"] or "–"),
    ("diagnoses", summary["diagnoses"] or "–"),
    ("availability", summary["availability"] or "–"),
    ("procedure", label(summary["procedure_wish"], language)),
]
st.table({t("communication.answer.field"): [t(f"communication.answer.{key}") for key, _ in rows],
          t("communication.answer.value"): [literal(value) for _, value in rows]})  # fmt: skip


def outcome_text(outcome) -> str:
    return t(f"communication.outcome.{outcome.value}")


# A form sent while the item closed (another practice was faster) still reaches the core, which records a
# late offer as a conflict; only a page that was merely opened shows the closed state.
if not view.open and not st.session_state.get("answer_submit"):
    notice = answer_page.notice(view, answered_here=st.session_state.get("answer_done") == view.item_id)
    when = formatting.day(clock.local(view.answered_at)) if view.answered_at else ""
    show = st.success if notice == "thanks" else st.info
    show(t(f"communication.answer.{notice}", outcome=outcome_text(view.outcome), when=when))
    if view.answer_message:
        st.text(t("communication.answer.recorded_message", message=view.answer_message))
    if view.proposed_first_session:
        st.caption(t("communication.answer.recorded_first", date=formatting.day(view.proposed_first_session)))
    st.stop()

with st.form("answer_form", clear_on_submit=False):
    outcome = st.radio(t("communication.answer.choice"), answer_page.ANSWERS, index=None, format_func=outcome_text)
    message = st.text_area(t("communication.answer.message"), max_chars=2000)
    first_session = st.date_input(t("communication.answer.first_session"), value=None, format="DD.MM.YYYY")
    submitted = st.form_submit_button(t("communication.answer.submit"), type="primary", key="answer_submit")

if submitted:
    if outcome is None:
        st.error(t("communication.answer.choose"))
        st.stop()
    try:
        with session_scope(data.engine()) as session:
            result = answer_page.submit(
                session,
                token=token,
                outcome=outcome,
                message=message,
                proposed_first_session=first_session,
                now=datetime.now(UTC),
            )
    except links.LinkError as exc:
        link_error(exc)
        st.stop()
    except WorkbenchError as exc:
        st.error(say(exc))
        st.stop()
    data.clear_matching()
    if result.just_recorded:  # not when another tab answered first: then the recorded answer is shown
        st.session_state["answer_done"] = view.item_id
    st.rerun()
