"""Entry point of the dashboards: ``streamlit run dashboards/app.py`` (``make run`` does this).

Everything is behind the login gate; the navigation lists only the pages the user's role may see.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `core` imports under `streamlit run`

from dashboards.components import login
from dashboards.i18n import language_switch, t
from dashboards.navigation import pages_for

st.set_page_config(page_title=t("app.title"), page_icon="🧭", layout="wide")

user = login.current_user()
if user is None:
    # a one-page navigation hides every other page (and Streamlit's automatic pages/ list) until login
    st.navigation([st.Page(login.page, title=t("login.title"), icon=":material/login:")], position="hidden").run()
    st.stop()

with st.sidebar:
    st.markdown(t("session.user", name=user.name, role=t(f"role.{user.role}")))
    language_switch(key="sidebar_language")
    st.button(t("session.logout"), key="logout", icon=":material/logout:", on_click=login.logout_by_user)

navigation = st.navigation(pages_for(user.role), position="sidebar")
navigation.run()
