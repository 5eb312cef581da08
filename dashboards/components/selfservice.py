"""The signed-link pages' shared frame (Kapazität melden, Mein Stand): no login, the token is the credential.

``open_link`` draws the title and language switch, refuses a page without ``?token=``, loads the view through
the core (a tampered, expired or ended link stops the page with its reason) and shows the last action's
outcome; ``act`` runs one core action in its own transaction and reruns with that outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from core.communication import links
from core.db import session_scope
from core.errors import WorkbenchError
from dashboards import data
from dashboards.i18n import language_switch, say, t


def open_link(*, page: str, title: str, load: Callable[..., Any]) -> tuple[str, Any]:
    """Draw the page's frame and return (token, the view ``load`` returns for it)."""
    st.title(title)
    language_switch(key=f"{page}_language")
    token = st.query_params.get("token")
    if not token:
        st.info(t("selfservice.no_token"))
        st.stop()
    try:
        with session_scope(data.engine()) as session:
            view = load(session, token=token, now=datetime.now(UTC))
    except links.LinkError as exc:
        st.error(t(f"selfservice.{exc.reason}"))
        st.stop()
    flash = st.session_state.pop(f"{page}_flash", None)
    if flash:
        (st.success if flash == "saved" else st.info)(t(f"selfservice.{flash}"))
    return token, view


def act(page: str, token: str, action: Callable[..., Any], *, changed: Callable[[Any], bool], **values: Any) -> None:
    """Run ``action`` in its own transaction; on success rerun and say whether ``changed`` its result."""
    try:
        with session_scope(data.engine()) as session:
            result = action(session, token=token, now=datetime.now(UTC), **values)
    except links.LinkError as exc:
        st.error(t(f"selfservice.{exc.reason}"))
        st.stop()
    except WorkbenchError as exc:
        st.error(say(exc))
        return
    st.session_state[f"{page}_flash"] = "saved" if changed(result) else "unchanged"
    st.rerun()
