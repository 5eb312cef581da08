"""My account: set up or switch off two-factor login (required for admins, optional for everyone else)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import segno
import streamlit as st

from core.auth import accounts, totp
from core.config import get_settings
from core.db import session_scope
from core.errors import ValidationError
from dashboards import data
from dashboards.components.login import require_user
from dashboards.i18n import t

user = require_user()
st.title(t("account.title"))
st.markdown(t("session.user", name=user.name, role=t(f"role.{user.role}")))
st.subheader(t("account.totp"))
with session_scope(data.engine()) as session:
    enrolled = totp.enrolled(accounts.get(session, user_id=user.id))

if enrolled:
    st.success(t("account.totp_on"))
    if user.role == "admin":
        st.caption(t("account.totp_required"))
    elif st.button(t("account.totp_disable"), key="account_totp_disable"):
        with session_scope(data.engine()) as session:
            totp.reset(session, user=accounts.get(session, user_id=user.id), actor=user.email, actor_id=user.id)
        st.rerun()
    st.stop()

st.info(t("account.totp_off"))
if "account_totp_secret" not in st.session_state:
    if st.button(t("account.totp_start"), key="account_totp_start", type="primary"):
        st.session_state["account_totp_secret"] = totp.new_secret()
        st.rerun()
    st.stop()

secret = st.session_state["account_totp_secret"]
png = io.BytesIO()
segno.make(totp.provisioning_uri(secret, email=user.email), error="m").save(png, kind="png", scale=5, border=2)
st.image(png.getvalue(), width=220)
st.caption(t("login.enrol.secret"))
st.code(" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), language=None)
with st.form("account_totp_form"):
    code = st.text_input(t("login.totp.code"), key="account_totp_code", max_chars=7, autocomplete="one-time-code")
    submitted = st.form_submit_button(t("login.totp.submit"), type="primary")
if submitted:
    try:
        with session_scope(data.engine()) as session:
            totp.enrol(session, user=accounts.get(session, user_id=user.id), secret=secret, code=code,
                       now=datetime.now(UTC), secret_key=get_settings().resolved_secret_key())  # fmt: skip
    except ValidationError:
        st.error(t("login.enrol.wrong"))
    else:
        st.session_state.pop("account_totp_secret")
        st.rerun()
