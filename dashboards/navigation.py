"""Which pages exist, in which section, for which roles. Pages that do not exist yet are not listed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards.i18n import t

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ALL_ROLES = frozenset({"admin", "staff", "manager", "analyst"})


@dataclass(frozen=True)
class PageSpec:
    file: str
    title_key: str
    section_key: str
    icon: str
    roles: frozenset[str]
    url_path: str
    hidden: bool = False  # detail pages: reached by links with ?id=..., not from the menu


PAGES: list[PageSpec] = [
    PageSpec("status.py", "status.title", "nav.admin", ":material/monitor_heart:", ALL_ROLES, "status"),
]

SECTION_ORDER = ["nav.patients", "nav.therapists", "nav.matching", "nav.communication", "nav.analytics", "nav.admin"]


def page_path(file: str) -> str:
    """Return the path under which a page is registered, for st.page_link and st.switch_page."""
    return str(PAGES_DIR / file)


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """Return the navigation sections (translated) with the pages ``role`` may open."""
    sections: dict[str, list[st.Page]] = {}
    for section in SECTION_ORDER:
        visible = [p for p in PAGES if p.section_key == section and role in p.roles]
        if visible:
            sections[t(section)] = [
                st.Page(
                    page_path(p.file),
                    title=t(p.title_key),
                    icon=p.icon,
                    url_path=p.url_path,
                    visibility="hidden" if p.hidden else "visible",
                )
                for p in visible
            ]
    return sections
