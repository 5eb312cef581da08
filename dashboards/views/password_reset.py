"""Public page (no login): set a new password through the one-time link an admin handed out.

Deliberately no require_user(): the token in ?token=... is the credential; it works exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.auth import accounts
from core.db import session_scope
from core.errors import AuthenticationError, ValidationError
from dashboards import data
from dashboards.i18n import language_switch, say, t

_, switch = st.columns([3, 1])  # public: no sidebar, so the language choice sits on the page
with switch:
    language_switch(key="reset_language")
st.title(t("reset.title"))
token = st.query_params.get("token")
if not token:
    st.info(t("reset.no_token"))
    st.stop()
if st.session_state.get("reset_done") == token:
    st.success(t("reset.done"))
    st.link_button(t("reset.to_login"), "/", type="primary")
    st.stop()

st.write(t("reset.intro"))
with st.form("reset_form"):
    password = st.text_input(t("login.change.password"), type="password", key="reset_password",
                             autocomplete="new-password")  # fmt: skip
    repeat = st.text_input(t("login.change.repeat"), type="password", key="reset_repeat", autocomplete="new-password")
    submitted = st.form_submit_button(t("login.change.submit"), type="primary")
if submitted:
    try:
        if password != repeat:
            raise ValidationError("The two passwords differ; type the same new password twice", field="repeat")
        with session_scope(data.engine()) as session:
            accounts.reset_password(session, token=token, password=password, now=datetime.now(UTC))
    except AuthenticationError:
        st.error(t("reset.invalid"))
    except ValidationError as exc:
        st.error(say(exc))
    else:
        st.session_state["reset_done"] = token
        st.rerun()
