"""The patient page's "Anrufe & Aufgaben" tab: log a call with its outcome, the call history, follow-up tasks.

Also ``show_phone_flag``: the warning under the patient's header while their number is flagged wrong.
Every action is one core call in one transaction; errors are shown with the user's input kept.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import clock
from core.contact import display_phone
from core.db import session_scope
from core.errors import WorkbenchError
from core.patients import calls, tasks
from core.patients.call_models import CallPurpose, PatientCallOutcome, TaskKind
from dashboards import data, formatting
from dashboards.components.login import CurrentUser
from dashboards.i18n import nt, say, t
from dashboards.navigation import page_path
from dashboards.plain_text import literal

PURPOSES = [p.value for p in CallPurpose]
OUTCOMES = [o.value for o in PatientCallOutcome]
KINDS = [k.value for k in TaskKind]
FLASH = "patient_calls_flash"
ERROR = "patient_calls_error"
NOBODY = 0  # the assignee option "niemand Bestimmtes"; staff user ids start at 1


def _day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def _run(action, success) -> bool:
    """Run one core action in its own transaction; keep the error for the rerun, or flash ``success``."""
    try:
        with session_scope(data.engine()) as session:
            result = action(session)
    except WorkbenchError as exc:
        st.session_state[ERROR] = say(exc)
        return False
    st.session_state[FLASH] = success(result) if callable(success) else success
    return True


def show_phone_flag(*, patient_id: int) -> None:
    """Warn under the header while the patient's phone number is the one a call found wrong."""
    with session_scope(data.engine()) as session:
        flag = calls.phone_flag(session, patient_id=patient_id)
    if flag:
        when = _day(flag.reported_at) if flag.reported_at else "—"
        st.warning(
            t("pcalls.phone_wrong", phone=display_phone(flag.phone), date=when), icon=":material/phone_disabled:"
        )


def show(*, patient_id: int, user: CurrentUser, today: date, erased: bool) -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    error = st.session_state.pop(ERROR, None)
    if error:
        st.error(error)
    with session_scope(data.engine()) as session:
        history = calls.calls_of(session, patient_id=patient_id)
        task_rows = tasks.tasks_of(session, patient_id=patient_id, today=today)
        staff = tasks.assignees(session)
    if erased:
        st.info(t("pcalls.erased"))
    else:
        left, right = st.columns([3, 2], gap="large")
        with left:
            _call_form(patient_id, user, today)
        with right:
            _open_tasks(patient_id, [r for r in task_rows if r.done_on is None], user, today)
    _history(history)
    _done_tasks(patient_id, [r for r in task_rows if r.done_on is not None], user, erased)
    if not erased:
        _task_form(patient_id, user, today, staff)


def _call_form(patient_id: int, user: CurrentUser, today: date) -> None:
    st.subheader(t("pcalls.log.title"))
    # widgets of a form keep their value in the browser; after a save, new keys give the next call a fresh form
    generation = st.session_state.get(f"pcall_generation_{patient_id}", 0)
    keys = {name: f"pcall_{name}_{patient_id}_{generation}" for name in ("purpose", "outcome", "note", "due_on")}
    with st.form(f"pcall_form_{patient_id}_{generation}", border=True):
        purpose = st.radio(t("pcalls.purpose"), PURPOSES, horizontal=True, key=keys["purpose"],
                           format_func=lambda v: t(f"pcalls.purpose.{v}"))  # fmt: skip
        outcome = st.radio(t("pcalls.outcome"), OUTCOMES, index=None, horizontal=True, key=keys["outcome"],
                           format_func=lambda v: t(f"pcalls.outcome.{v}"))  # fmt: skip
        note = st.text_area(t("pcalls.note"), key=keys["note"], help=t("pcalls.note.help"), height=90)
        due_on = st.date_input(t("pcalls.due_on"), value=None, min_value=today, format="DD.MM.YYYY",
                               key=keys["due_on"], help=t("pcalls.due_on.help"))  # fmt: skip
        submitted = st.form_submit_button(t("pcalls.save"), type="primary", icon=":material/call:")
    if not submitted:
        return

    def saved(result: calls.CallRecorded) -> str:
        if result.task is None:
            return t("pcalls.saved")
        return t("pcalls.saved.task", kind=t(f"pcalls.kind.{result.task.kind.value}"), due=_day(result.task.due_on))

    done = _run(
        lambda s: calls.record_call(s, patient_id=patient_id, purpose=purpose, outcome=outcome, note=note,
                                    due_on=due_on, actor=user.email, actor_id=user.id, now=clock.now()),
        saved,
    )  # fmt: skip
    if done:  # a fresh form for the next call; after an error the input stays
        st.session_state[f"pcall_generation_{patient_id}"] = generation + 1
    st.rerun()


def _task_line(row: tasks.TaskRow, today: date) -> str:
    if row.overdue:
        due = f":red[**{t('pcalls.task.overdue', due=_day(row.due_on))}**]"
    elif row.due_on == today:
        due = f":orange[**{t('pcalls.task.due_today')}**]"
    else:
        due = t("pcalls.task.due", due=_day(row.due_on))
    parts = [f"**{t(f'pcalls.kind.{row.kind}')}**", due]
    if row.assignee:
        parts.append(t("pcalls.task.assignee", name=literal(row.assignee)))
    line = " · ".join(parts)
    return f"{line}  \n{literal(row.note)}" if row.note else line


def _open_tasks(patient_id: int, rows: list[tasks.TaskRow], user: CurrentUser, today: date) -> None:
    st.subheader(t("pcalls.tasks.title"))
    if not rows:
        st.caption(t("pcalls.tasks.empty"))
        return
    for row in rows:
        with st.container(border=True):
            st.markdown(_task_line(row, today))
            if st.button(t("pcalls.task.complete"), key=f"ptask_done_{row.task_id}", icon=":material/check:"):
                _run(lambda s, r=row: tasks.complete_task(s, task_id=r.task_id, actor=user.email, actor_id=user.id,
                                                          now=clock.now()), t("pcalls.task.completed"))  # fmt: skip
                st.rerun()


def _history(rows: list[calls.CallRow]) -> None:
    st.subheader(t("pcalls.history.title"))
    if not rows:
        st.caption(t("pcalls.history.empty"))
        return
    frame = pd.DataFrame(
        {
            t("pcalls.col.when"): [formatting.moment(r.called_at) for r in rows],  # local time already
            t("pcalls.col.purpose"): [t(f"pcalls.purpose.{r.purpose}") for r in rows],
            t("pcalls.col.outcome"): [t(f"pcalls.outcome.{r.outcome}") for r in rows],
            t("pcalls.col.note"): [r.note or "" for r in rows],
            t("pcalls.col.staff"): [r.staff or "" for r in rows],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _done_tasks(patient_id: int, rows: list[tasks.TaskRow], user: CurrentUser, erased: bool) -> None:
    if not rows:
        return
    with st.expander(t("pcalls.tasks.done_title", count=len(rows))):
        for row in rows:
            by = (t("pcalls.task.done_by", date=_day(row.done_on), name=literal(row.done_by)) if row.done_by
                  else t("pcalls.task.done_on", date=_day(row.done_on)))  # fmt: skip
            st.markdown(f"~~{t(f'pcalls.kind.{row.kind}')}~~ · {by}" + (f"  \n{literal(row.note)}" if row.note else ""))
            if not erased and st.button(t("pcalls.task.reopen"), key=f"ptask_reopen_{row.task_id}",
                                        icon=":material/undo:"):  # fmt: skip
                _run(lambda s, r=row: tasks.reopen_task(s, task_id=r.task_id, actor=user.email, actor_id=user.id,
                                                        now=clock.now()), t("pcalls.task.reopened"))  # fmt: skip
                st.rerun()


def _task_form(patient_id: int, user: CurrentUser, today: date, staff: list[tuple[int, str]]) -> None:
    st.subheader(t("pcalls.new_task.title"))
    names = dict(staff)
    generation = st.session_state.get(f"ptask_generation_{patient_id}", 0)
    keys = {name: f"ptask_{name}_{patient_id}_{generation}" for name in ("kind", "due_on", "note", "assignee")}
    with st.form(f"ptask_form_{patient_id}_{generation}", border=True):
        first, second, third = st.columns(3)
        kind = first.selectbox(t("pcalls.new_task.kind"), KINDS, key=keys["kind"],
                               format_func=lambda v: t(f"pcalls.kind.{v}"))  # fmt: skip
        due_on = second.date_input(t("pcalls.new_task.due_on"), value=tasks.next_working_day(today), min_value=today,
                                   format="DD.MM.YYYY", key=keys["due_on"])  # fmt: skip
        assignee = third.selectbox(
            t("pcalls.new_task.assignee"),
            [NOBODY, *names],  # not None: Streamlit would show an empty box with its English placeholder
            key=keys["assignee"],
            format_func=lambda v: t("pcalls.new_task.nobody") if v == NOBODY else names[v],
        )
        note = st.text_input(t("pcalls.new_task.note"), key=keys["note"])
        submitted = st.form_submit_button(t("pcalls.new_task.save"), icon=":material/add_task:")
    if not submitted:
        return
    done = _run(
        lambda s: tasks.create_task(s, patient_id=patient_id, kind=kind, due_on=due_on, note=note,
                                    assignee_id=assignee or None, actor=user.email, actor_id=user.id, now=clock.now()),
        t("pcalls.new_task.saved"),
    )  # fmt: skip
    if done:
        st.session_state[f"ptask_generation_{patient_id}"] = generation + 1
    st.rerun()


def show_due_tasks(due, *, shown_rows: int = 15) -> None:
    """The "Heute" section: open tasks due today or overdue, each a link to its patient's page."""
    st.subheader(t("pcalls.today.title"))
    if not due.count:
        st.caption(t("today.none"))
        return
    key = "pcalls.today.count.overdue" if due.overdue else "pcalls.today.count"
    st.caption(nt(key, due.count, overdue=due.overdue))
    for row in due.rows[:shown_rows]:
        when = t("pcalls.task.overdue", due=_day(row.due_on)) if row.overdue else t("pcalls.task.due_today")
        parts = [row.reference, t(f"pcalls.kind.{row.kind}"), when]
        if row.assignee:
            parts.append(t("pcalls.task.assignee", name=literal(row.assignee)))
        st.page_link(page_path("patient.py"), label=" · ".join(parts), query_params={"id": row.patient_id},
                     icon=":material/warning:" if row.overdue else ":material/task:")  # fmt: skip
    if due.count > shown_rows:
        st.caption(t("pcalls.today.more", count=due.count - shown_rows))
