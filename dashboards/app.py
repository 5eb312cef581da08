"""Entry point of the dashboards: ``streamlit run dashboards/app.py`` (``make run`` does this).

Everything is behind the login gate; the navigation lists only the pages the user's role may see.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `core` imports under `streamlit run`

from dashboards.components import database_outage, login, quick_search
from dashboards.i18n import language_switch, t
from dashboards.navigation import all_pages_hidden, menu, pages_for

st.set_page_config(page_title=t("app.title"), page_icon="🧭", layout="wide")
# Streamlit's own table toolbar ("Download as CSV", "Search", "Fullscreen") and column menu ("Sort ascending",
# "Pin column") are English-only and cannot be translated; the toolbar's download would also bypass our
# exports (German buttons, small cells hidden, audited). Tables are filtered by the page's own fields and
# sorted by a click on their header; downloads go through dashboards.components.figures.
st.html(
    "<style>[data-testid='stElementToolbar'], [data-testid='stDataFrameColumnMenu'] "
    "{ display: none !important; }</style>"
)


def main() -> None:
    user = login.current_user()
    if user is None:
        # Every page is registered but hidden, so a deep link (/patient?id=5) opens that page, whose
        # require_user() shows the login form in place; after login the user is where the link pointed.
        login_page = st.Page(login.page, title=t("login.title"), icon=":material/login:", default=True)
        st.navigation([login_page, *all_pages_hidden()], position="hidden").run()
        st.stop()

    sections = pages_for(user.role)
    with st.sidebar:
        if user.role in {"admin", "staff", "manager"}:  # analysts work on the pseudonymised warehouse only
            quick_search.show(key="quick")
        menu(sections)
        st.divider()
        st.markdown(t("session.user", name=user.name, role=t(f"role.{user.role}")))
        language_switch(key="sidebar_language")
        st.button(t("session.logout"), key="logout", icon=":material/logout:", on_click=login.logout_by_user)

    navigation = st.navigation(sections, position="hidden")
    navigation.run()


try:
    main()
except database_outage.OUTAGES as error:  # every page, the login included, runs inside main()
    database_outage.show(error)
