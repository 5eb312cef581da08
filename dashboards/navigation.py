"""Which pages exist, in which section, for which roles. Pages that do not exist yet are not listed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards.i18n import t

# Not "pages/": Streamlit treats a pages/ folder beside the entry script as a legacy multipage app and,
# until some session has called st.navigation, runs pages/<name>.py directly for a deep link, bypassing
# app.py (no menu, no gate around it). Measured in the browser on a freshly started server.
PAGES_DIR = Path(__file__).resolve().parent / "views"
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


STAFF_ROLES = frozenset({"admin", "staff"})
CASE_ROLES = frozenset({"admin", "staff", "manager"})  # who may open individual patient records
ANALYTICS_ROLES = frozenset({"admin", "manager", "analyst"})  # the analytics pages beyond the overview

PAGES: list[PageSpec] = [
    # the first section: staff, managers and admins land on "Heute" (analysts have no page in it)
    PageSpec("today.py", "today.title", "nav.work", ":material/today:", CASE_ROLES, "today"),
    PageSpec("board.py", "board.title", "nav.work", ":material/view_kanban:", CASE_ROLES, "board"),
    PageSpec("patients.py", "patients.title", "nav.patients", ":material/groups:", CASE_ROLES, "patients"),
    PageSpec("patient_new.py", "patients.new", "nav.patients", ":material/person_add:", STAFF_ROLES, "patient_new"),
    PageSpec("patient.py", "patients.open", "nav.patients", ":material/person:", CASE_ROLES, "patient", hidden=True),
    PageSpec("therapists.py", "therapists.title", "nav.therapists", ":material/psychology:", CASE_ROLES, "therapists"),
    PageSpec(
        "therapist_new.py", "therapists.new", "nav.therapists", ":material/person_add:", STAFF_ROLES, "therapist_new"
    ),
    PageSpec(
        "therapist.py",
        "therapists.open",
        "nav.therapists",
        ":material/stethoscope:",
        CASE_ROLES,
        "therapist",
        hidden=True,
    ),
    PageSpec(
        "practices.py",
        "therapists.practice_page",
        "nav.therapists",
        ":material/home_health:",
        CASE_ROLES,
        "practice",
        hidden=True,
    ),
    PageSpec(
        "directory_import.py",
        "directory.title",
        "nav.therapists",
        ":material/upload_file:",
        STAFF_ROLES,
        "directory_import",
    ),
    PageSpec("proposals.py", "nav.matching_proposals", "nav.matching", ":material/hub:", STAFF_ROLES, "proposals"),
    PageSpec(
        "answers.py", "nav.matching_answers", "nav.matching", ":material/mark_email_read:", STAFF_ROLES, "answers"
    ),
    PageSpec("conflicts.py", "nav.matching_conflicts", "nav.matching", ":material/warning:", STAFF_ROLES, "conflicts"),
    PageSpec("why_not.py", "nav.matching_why_not", "nav.matching", ":material/help:", CASE_ROLES, "why_not"),
    PageSpec("calls.py", "followup.calls.title", "nav.communication", ":material/call:", STAFF_ROLES, "calls"),
    PageSpec(
        "inquiry_thread.py",
        "followup.thread.title",
        "nav.communication",
        ":material/forum:",
        STAFF_ROLES,
        "inquiry_thread",
        hidden=True,
    ),
    # public: no login; the page itself never calls require_user (the token is the credential)
    PageSpec(
        "answer.py",
        "communication.answer.title",
        "nav.communication",
        ":material/reply:",
        ALL_ROLES,
        "answer",
        hidden=True,
    ),
    # public self-service pages: the signed token in ?token=... is the credential (core.communication.selfservice_*)
    PageSpec(
        "mein_stand.py",
        "selfservice.status.title",
        "nav.communication",
        ":material/person_pin:",
        ALL_ROLES,
        "mein_stand",
        hidden=True,
    ),
    PageSpec(
        "kapazitaet.py",
        "selfservice.capacity.title",
        "nav.communication",
        ":material/event_available:",
        ALL_ROLES,
        "kapazitaet",
        hidden=True,
    ),
    PageSpec(
        "mail_preview.py",
        "communication.preview.title",
        "nav.communication",
        ":material/drafts:",
        STAFF_ROLES,
        "mail_preview",
    ),
    PageSpec("mailbox.py", "mail.title", "nav.communication", ":material/inbox:", STAFF_ROLES, "mailbox"),
    PageSpec("status.py", "status.title", "nav.admin", ":material/monitor_heart:", ALL_ROLES, "status"),
    PageSpec("audit.py", "audit.title", "nav.admin", ":material/policy:", frozenset({"admin"}), "audit"),
    PageSpec(
        "models.py", "models.title", "nav.admin", ":material/model_training:", frozenset({"admin", "manager"}), "models"
    ),
    PageSpec(
        "therapist_map.py",
        "geo.therapist_map.title",
        "nav.therapists",
        ":material/map:",
        ALL_ROLES - {"analyst"},  # therapists by name; analysts work on the pseudonymised warehouse
        "therapist_map",
    ),
    PageSpec("supply_demand.py", "geo.supply.title", "nav.analytics", ":material/layers:", ALL_ROLES, "supply_demand"),
    # the warehouse pages (pseudonymised); staff see the overview, managers and analysts everything
    PageSpec(
        "analytics_overview.py",
        "analytics.overview.title",
        "nav.analytics",
        ":material/dashboard:",
        ALL_ROLES,
        "analytics_overview",
    ),
    PageSpec(
        "analytics_success.py",
        "analytics.success.title",
        "nav.analytics",
        ":material/trending_up:",
        ANALYTICS_ROLES,
        "analytics_success",
    ),
    PageSpec(
        "analytics_process.py",
        "analytics.process.title",
        "nav.analytics",
        ":material/filter_alt:",
        ANALYTICS_ROLES,
        "analytics_process",
    ),
    PageSpec(
        "analytics_bottlenecks.py",
        "analytics.bottlenecks.title",
        "nav.analytics",
        ":material/report:",
        ANALYTICS_ROLES,
        "analytics_bottlenecks",
    ),
    PageSpec(
        "analytics_responses.py",
        "analytics.responses.title",
        "nav.analytics",
        ":material/reply_all:",
        ANALYTICS_ROLES,
        "analytics_responses",
    ),
    PageSpec(
        "analytics_reports.py",
        "reports.title",
        "nav.analytics",
        ":material/query_stats:",
        ANALYTICS_ROLES,
        "analytics_reports",
    ),
    PageSpec(
        "analytics_sql.py",
        "analytics.sql.title",
        "nav.analytics",
        ":material/terminal:",
        frozenset({"admin", "analyst"}),
        "analytics_sql",
    ),
    PageSpec("users.py", "nav.users", "nav.admin", ":material/manage_accounts:", frozenset({"admin"}), "users"),
    PageSpec("account.py", "account.title", "nav.admin", ":material/account_circle:", ALL_ROLES, "account"),
    # public: the one-time token in ?token=... is the credential (an admin hands the link out)
    PageSpec("password_reset.py", "reset.title", "nav.admin", ":material/key:", ALL_ROLES, "reset", hidden=True),
]

SECTION_ORDER = [
    "nav.work",
    "nav.patients",
    "nav.therapists",
    "nav.matching",
    "nav.communication",
    "nav.analytics",
    "nav.admin",
]


def page_path(file: str) -> str:
    """Return the path under which a page is registered, for st.page_link and st.switch_page."""
    return str(PAGES_DIR / file)


def start_page(role: str) -> PageSpec:
    """Return the page ``role`` lands on after login: the first page of its menu, never a hidden one.

    Staff, managers and admins land on "Heute" (what needs a person now), analysts on their first
    analytics page; never on the public answer page, which is hidden and only reached by its link.
    """
    for section in SECTION_ORDER:
        for spec in PAGES:
            if spec.section_key == section and role in spec.roles and not spec.hidden:
                return spec
    raise LookupError(f"role '{role}' may open no page; give it one in dashboards/navigation.py")


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """Return the navigation sections (translated) with the pages ``role`` may open.

    The role's start page is the default. Every page it may not open is registered too, hidden, as a "no
    access" page under the same address: a deep link then says so instead of silently showing another page.
    """
    start = start_page(role)
    start_page_object = st.Page(page_path(start.file), title=t(start.title_key), icon=start.icon,
                                url_path=start.url_path, default=True)  # fmt: skip
    sections: dict[str, list[st.Page]] = {}
    for section in SECTION_ORDER:
        visible = [p for p in PAGES if p.section_key == section and role in p.roles]
        if visible:
            sections[t(section)] = [
                start_page_object
                if p is start
                else st.Page(
                    page_path(p.file),
                    title=t(p.title_key),
                    icon=p.icon,
                    url_path=p.url_path,
                    visibility="hidden" if p.hidden else "visible",
                )
                for p in visible
            ]
    refused = [_no_access_page(p, role, start_page_object) for p in PAGES if role not in p.roles]
    if refused:
        sections[t("nav.no_access.title")] = refused
    return sections


def _no_access_page(spec: PageSpec, role: str, start: st.Page) -> st.Page:
    def no_access() -> None:
        st.title(t("nav.no_access.title"))
        st.error(t("nav.no_access", role=t(f"role.{role}")))
        st.page_link(start, label=t("nav.no_access.start"), icon=":material/home:")

    no_access.__name__ = f"no_access_{spec.url_path}"  # Streamlit tells callable pages apart by name
    return st.Page(no_access, title=t("nav.no_access.title"), url_path=spec.url_path, visibility="hidden")


def all_pages_hidden() -> list[st.Page]:
    """Return every page, hidden: the logged-out navigation, so deep links survive the login."""
    return [
        st.Page(page_path(p.file), title=t(p.title_key), icon=p.icon, url_path=p.url_path, visibility="hidden")
        for p in PAGES
    ]


def menu(sections: dict[str, list[st.Page]]) -> None:
    """Render the sidebar menu: one caption per section, a link per visible page."""
    for section, pages in sections.items():
        visible = [page for page in pages if page.visibility == "visible"]
        if visible:
            st.caption(section)
            for page in visible:
                st.page_link(page)
