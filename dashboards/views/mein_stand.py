"""Mein Stand (public, no login): a patient sees their search and changes it through the signed link in our mail.

Deliberately no require_user(): the signed, expiring token in ?token=... is the only credential and names one
patient; the core (selfservice_patient) decides everything, audits every view and change, and writes nothing
for a tampered, expired or ended link. One column, so it reads on a phone.
"""

from __future__ import annotations

from datetime import time

import streamlit as st

from core.communication import outbox
from core.communication import selfservice_patient as mein_stand
from dashboards.components.selfservice import act, open_link
from dashboards.i18n import current_language, t
from dashboards.plain_text import literal

token, view = open_link(page="mein_stand", title=t("selfservice.status.title"), load=mein_stand.load)


def change(action, **values) -> None:
    act("mein_stand", token, action, changed=lambda result: result.changed, **values)


st.markdown(t("selfservice.status.hello", name=literal(view.first_name), reference=view.reference))
state = view.search_status.value if view.search_status else "none"
st.info(t(f"selfservice.status.{state}", started=f"{view.started_on:%d.%m.%Y}" if view.started_on else "",
          days=view.waiting_days, until=f"{view.paused_until:%d.%m.%Y}" if view.paused_until else ""))  # fmt: skip
if view.search_status is not None:
    st.metric(t("selfservice.status.asked"), view.practices_asked)
    st.metric(t("selfservice.status.waiting"), view.open_inquiries)
if not view.can_change:
    st.stop()

st.subheader(t("selfservice.status.contact"))
with st.form("mein_stand_contact"):
    email = st.text_input(t("selfservice.status.email"), value=view.email or "", max_chars=254)
    phone = st.text_input(t("selfservice.status.phone"), value=view.phone or "", max_chars=40)
    if st.form_submit_button(t("selfservice.status.save_contact")):
        change(mein_stand.update_contact, changes={"email": email.strip() or None, "phone": phone.strip() or None})

st.subheader(t("selfservice.status.availability"))
current = outbox.availability_text(view.availability, weekly_hours=view.weekly_hours, language=current_language())
st.caption(t("selfservice.status.current_availability", windows=current) if current
           else t("selfservice.status.no_availability"))  # fmt: skip
with st.form("mein_stand_availability"):
    days = st.multiselect(
        t("selfservice.status.days"),
        list(range(7)),
        format_func=lambda d: t(f"weekday.{d}"),
        placeholder=t("select.placeholder"),
    )  # not Streamlit's English "Choose options"
    start = st.time_input(t("selfservice.status.from"), value=time(8, 0), step=1800)
    end = st.time_input(t("selfservice.status.to"), value=time(18, 0), step=1800)
    if st.form_submit_button(t("selfservice.status.save_availability")):
        if not days:
            st.error(t("selfservice.status.choose_days"))
        else:
            windows = [{"weekday": d, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"} for d in days]
            change(mein_stand.update_contact, changes={"availability": windows})

st.subheader(t("selfservice.status.updates"))
with st.form("mein_stand_updates"):
    wanted = st.checkbox(t("selfservice.status.updates_on"), value=view.wants_status_updates)
    if st.form_submit_button(t("selfservice.status.updates_save")):
        change(mein_stand.set_status_updates, wanted=wanted)

st.subheader(t("selfservice.status.pause"))
if view.paused_until:
    if st.button(t("selfservice.status.resume_button"), key="mein_stand_resume"):
        change(mein_stand.resume)
else:
    with st.form("mein_stand_pause"):
        until = st.date_input(t("selfservice.status.pause_until"), value=None, format="DD.MM.YYYY")
        if st.form_submit_button(t("selfservice.status.pause_button")):
            if until is None:
                st.error(t("selfservice.status.choose_date"))
            else:
                change(mein_stand.pause, until=until)

st.subheader(t("selfservice.status.end"))
with st.form("mein_stand_end"):
    reason = st.radio(t("selfservice.status.end_reason"), list(mein_stand.END_REASONS), index=None,
                      format_func=lambda r: t(f"selfservice.status.reason.{r}"))  # fmt: skip
    sure = st.checkbox(t("selfservice.status.end_confirm"))
    if st.form_submit_button(t("selfservice.status.end_button")):
        if reason and sure:
            change(mein_stand.end_search, reason=reason)
        else:
            st.error(t("selfservice.status.end_missing"))
