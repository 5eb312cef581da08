"""User administration (admins): create users, change roles, deactivate, hand out one-time reset links."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from core import clock
from core.auth import accounts, totp
from core.auth import service as auth
from core.auth.models import Role
from core.config import get_settings
from core.db import session_scope
from core.errors import WorkbenchError
from dashboards import data, formatting
from dashboards.components.login import require_user
from dashboards.i18n import LANGUAGES, say, t

user = require_user()
if user.role != "admin":
    st.error(t("users.only_admins"))
    st.stop()
settings = get_settings()
ROLES = [r.value for r in Role]


def act(action, done: str, **values) -> None:
    """Run one admin action in its own transaction; report the outcome after the rerun."""
    try:
        with session_scope(data.engine()) as session:
            result = action(session)
    except WorkbenchError as exc:
        st.session_state["users_flash"] = ("error", say(exc), None)
    else:
        st.session_state["users_flash"] = ("success", t(done, **values), result)
    st.rerun()


st.title(t("users.title"))
kind, message, link = st.session_state.pop("users_flash", (None, None, None))
if kind == "error":
    st.error(message)
elif kind == "success":
    st.success(message)
    if isinstance(link, str):
        st.code(link, language=None)

with session_scope(data.engine()) as session:
    people = [(u.id, u.email, u.display_name, u.role.value, u.is_active, totp.enrolled(u), u.last_login_at)
              for u in accounts.get_all(session)]  # fmt: skip
st.dataframe(
    pd.DataFrame(
        {
            t("users.email"): [p[1] for p in people],
            t("users.name"): [p[2] for p in people],
            t("users.role"): [t(f"role.{p[3]}") for p in people],
            t("users.status"): [t("users.active") if p[4] else t("users.inactive") for p in people],
            t("users.totp"): [t("users.totp_on") if p[5] else t("users.totp_off") for p in people],
            t("users.last_login"): [formatting.moment(clock.local(p[6])) if p[6] else t("users.never") for p in people],
        }
    ),
    hide_index=True,
    width="stretch",
)

left, right = st.columns(2)
with left, st.form("users_new", clear_on_submit=True):
    st.subheader(t("users.new"))
    email = st.text_input(t("users.email"), key="users_new_email")
    name = st.text_input(t("users.name"), key="users_new_name")
    role = st.selectbox(t("users.role"), ROLES, index=ROLES.index("staff"), format_func=lambda r: t(f"role.{r}"),
                        key="users_new_role")  # fmt: skip
    language = st.selectbox(t("users.language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                            key="users_new_language")  # fmt: skip
    password = st.text_input(t("users.initial_password"), type="password", key="users_new_password",
                             autocomplete="new-password")  # fmt: skip
    if st.form_submit_button(t("users.create"), type="primary"):
        act(lambda s: auth.create_user(s, email=email, role=role, password=password, display_name=name,
                                       language=language, must_change_password=True, actor=user.email,
                                       actor_id=user.id), "users.created", email=email.strip())  # fmt: skip

with right:
    st.subheader(t("users.edit"))
    by_id = {p[0]: p for p in people}
    picked = st.selectbox(t("users.pick"), list(by_id), format_func=lambda i: by_id[i][1], key="users_pick")
    if picked is not None:
        _, email, _, role, active, enrolled, _ = by_id[picked]
        new_role = st.selectbox(t("users.role"), ROLES, index=ROLES.index(role), format_func=lambda r: t(f"role.{r}"),
                                key=f"users_role_{picked}")  # fmt: skip
        now = datetime.now(UTC)
        if st.button(t("users.change_role"), key="users_change_role", disabled=new_role == role):
            act(lambda s: accounts.change_role(s, user_id=picked, role=new_role, actor=user.email, actor_id=user.id,
                                               now=now), "users.role_changed", email=email,
                role=t(f"role.{new_role}"))  # fmt: skip
        if active and st.button(t("users.deactivate"), key="users_deactivate", icon=":material/block:"):
            act(lambda s: accounts.deactivate(s, user_id=picked, actor=user.email, actor_id=user.id, now=now),
                "users.deactivated", email=email)  # fmt: skip
        if not active and st.button(t("users.reactivate"), key="users_reactivate"):
            act(lambda s: accounts.reactivate(s, user_id=picked, actor=user.email, actor_id=user.id),
                "users.reactivated", email=email)  # fmt: skip
        if st.button(t("users.reset"), key="users_reset", icon=":material/key:"):
            until = formatting.moment(clock.local(now + accounts.RESET_LINK_VALIDITY))
            act(lambda s: f"{settings.public_base_url}/reset?token="
                + accounts.issue_password_reset(s, user_id=picked, actor=user.email, actor_id=user.id, now=now),
                "users.reset_link", email=email, until=until)  # fmt: skip
        if enrolled and st.button(t("users.reset_totp"), key="users_reset_totp"):
            act(lambda s: totp.reset(s, user=accounts.get(s, user_id=picked), actor=user.email, actor_id=user.id),
                "users.totp_reset", email=email)  # fmt: skip
