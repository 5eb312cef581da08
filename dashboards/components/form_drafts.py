"""Unsaved form input that survives a reload and new tabs: kept on the server per login (core.drafts).

A page wraps its form like this (``names``: the form's widgets; ``empty``: what they show untouched):

    restored = form_drafts.restore(key=KEY, form_key="patient_new", user=user)  # before the form is seeded
    patient_form.show(...)                                                      # seeds and draws the widgets
    form_drafts.remember(key=KEY, form_key="patient_new", user=user, names=..., empty=...)  # after

``restore`` looks for a draft only when the form opens without any widget state in this tab (a reload, a
new tab), and then fills ``{key}__unsaved`` so that form_state.seed shows it. ``remember`` compares the
widgets with what was kept last and writes only when they differ (every change, no timer); input equal
to the untouched form deletes the draft. The page deletes the draft in the transaction that saves the form
(``discard``); ``notice`` says a draft came back and offers to drop it. Values are never logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from core import clock
from core.config import get_settings
from core.db import session_scope
from core.drafts import service as drafts
from dashboards import data, formatting
from dashboards.components import form_state
from dashboards.components.login import CurrentUser
from dashboards.i18n import current_language, t


def _login(user: CurrentUser) -> str | None:
    return getattr(user, "login_id", None) or None  # AppTest runs log in without a login session


def restore(*, key: str, form_key: str, user: CurrentUser, names: Iterable[str]) -> dict[str, Any] | None:
    """Bring back the server's draft if the form has no state in this tab; return its extras (or None)."""
    state = st.session_state
    login_id = _login(user)
    fresh = not any(f"{key}_{name}" in state for name in names) and f"{key}__unsaved" not in state
    if login_id is None or not fresh or state.get(f"{key}__looked") or state.get(f"{key}__draft") is not None:
        return None
    state[f"{key}__looked"] = True
    secret = get_settings().resolved_secret_key()
    with session_scope(data.engine()) as session:
        found = drafts.get(session, login_id=login_id, user_id=user.id, form_key=form_key,
                           now=datetime.now(UTC), secret_key=secret)  # fmt: skip
    if found is None:
        return None
    state[f"{key}__unsaved"] = found.values["widgets"]
    state[f"{key}__kept"] = found.values["widgets"]
    state[f"{key}__restored_at"] = found.saved_at
    return found.values.get("extra") or {}


def remember(*, key: str, form_key: str, user: CurrentUser, names: Iterable[str], empty: Mapping[str, Any],
             extra: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """Keep the form's input on the server when it changed since last kept; drop it when it is the untouched form."""
    state = st.session_state
    login_id = _login(user)
    current = {name: state.get(f"{key}_{name}") for name in names}
    if current == state.get(f"{key}__kept"):
        return
    untouched = current == {name: empty.get(name) for name in names}
    if untouched and state.get(f"{key}__kept") is None:  # the form as it opened: nothing kept, nothing to drop
        state[f"{key}__kept"], state[f"{key}__unsaved"] = current, None
        return
    state[f"{key}__unsaved"] = None if untouched else current
    if login_id is None:
        state[f"{key}__kept"] = current
        return
    secret = get_settings().resolved_secret_key()
    with session_scope(data.engine()) as session:
        if untouched:
            drafts.discard(session, login_id=login_id, form_key=form_key)
        else:
            drafts.save(session, login_id=login_id, user_id=user.id, form_key=form_key,
                        values={"widgets": current, "extra": dict(extra or {})}, now=datetime.now(UTC),
                        secret_key=secret)  # fmt: skip
    state[f"{key}__kept"] = current


def notice(*, key: str, form_key: str, user: CurrentUser) -> None:
    """Say that a draft came back, with a button that drops it and shows the untouched form."""
    restored_at = st.session_state.get(f"{key}__restored_at")
    if restored_at is None:
        return
    when = formatting.moment(clock.local(restored_at), language=current_language())
    st.info(t("form.draft_restored", when=when), icon=":material/history:")
    if st.button(t("form.draft_discard"), key=f"{key}__discard_draft", icon=":material/delete:"):
        drop(key=key, form_key=form_key, user=user)
        st.rerun()


def drop(*, key: str, form_key: str, user: CurrentUser) -> None:
    """Forget the form's input in this tab and on the server: the form shows the record (or nothing) again."""
    if _login(user) is not None:
        with session_scope(data.engine()) as session:
            discard(session, form_key=form_key, user=user)
    form_state.reset(key)
    st.session_state[f"{key}__looked"] = True  # the draft is gone: no need to look for it again


def discard(session: Session, *, form_key: str, user: CurrentUser) -> None:
    """Forget the form's draft on the server, in the transaction that saves the form."""
    login_id = _login(user)
    if login_id is not None:
        drafts.discard(session, login_id=login_id, form_key=form_key)
