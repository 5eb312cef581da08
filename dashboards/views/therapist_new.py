"""Create a therapist: inline validation that keeps the input, a duplicate warning, then on to the record."""

from __future__ import annotations

import streamlit as st

from core import clock
from core.db import session_scope
from core.therapists import service as therapists
from core.therapists.duplicates import PossibleDuplicate
from dashboards import data
from dashboards.components import form_drafts, therapist_form
from dashboards.components.login import require_user
from dashboards.i18n import t
from dashboards.navigation import page_path

KEY = "new_therapist"
FORM = "therapist_new"  # the draft's key on the server (core.drafts)
CONFIRM = f"{KEY}__confirm_duplicate"  # outside the form's key space, so reset() keeps the page tidy
user = require_user()
st.title(t("therapists.new"))
if user.role not in {"admin", "staff"}:
    st.info(t("therapists.new_readonly"))
    st.stop()

created = st.session_state.pop("therapist_created", None)
if created:
    st.session_state["therapist_flash"] = t("therapists.created", name=created[1])
    st.switch_page(page_path("therapist.py"), query_params={"id": str(created[0])})


def save(values: dict) -> None:
    with session_scope(data.engine()) as session:
        therapist = therapists.create(
            session,
            data=values,
            actor=user.email,
            actor_id=user.id,
            today=clock.today(),
            allow_duplicate=bool(st.session_state.get(CONFIRM)),
        )
        form_drafts.discard(session, form_key=FORM, user=user)
        created = (therapist.id, f"{therapist.first_name} {therapist.last_name}")
    therapist_form.reset(KEY)
    st.session_state.pop(CONFIRM, None)
    data.clear_therapists()
    st.session_state["therapist_created"] = created


form_drafts.restore(key=KEY, form_key=FORM, user=user, names=therapist_form.DEFAULTS)
form_drafts.notice(key=KEY, form_key=FORM, user=user)
therapist_form.show(key=KEY, initial=None, on_save=save, submit_label=t("therapists.form.create"))
form_drafts.remember(key=KEY, form_key=FORM, user=user, names=therapist_form.DEFAULTS,
                     empty=therapist_form.widget_values({}))  # fmt: skip

# below the form: the user just pressed its button here
problem = therapist_form.problem(KEY)
if isinstance(problem, PossibleDuplicate):
    st.warning(t("therapists.form.duplicate"))
    for candidate in problem.candidates:
        reasons = ", ".join(t(f"therapists.form.duplicate_reason.{r}") for r in candidate.reasons)
        place = " ".join(filter(None, [candidate.postcode, candidate.city]))
        st.page_link(
            page_path("therapist.py"),
            query_params={"id": str(candidate.id)},
            icon=":material/stethoscope:",
            label=f"{candidate.name} · {place} · {t(f'therapists.status.{candidate.status}')} ({reasons})",
        )
    st.caption(t("therapists.form.duplicate_hint"))

    def confirm() -> None:
        st.session_state[CONFIRM] = True
        therapist_form.submit(KEY, save)  # the values the duplicate check just looked at

    st.button(t("therapists.form.duplicate_confirm"), type="primary", on_click=confirm, icon=":material/person_add:")
