"""UI text: German first, with a complete English equivalent (a test keeps the two catalogs in step).

Example: ``t("login.title")`` -> "Anmeldung" (or "Sign in" when the user chose English)
"""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"de": "Deutsch", "en": "English"}

CATALOG: dict[str, dict[str, str]] = {
    "de": {
        "app.title": "Vermittlungs-Werkbank",
        "app.subtitle": "Psychotherapie-Platzvermittlung",
        "nav.patients": "Patient/innen",
        "nav.therapists": "Therapeut/innen",
        "nav.matching": "Matching",
        "nav.communication": "Kommunikation",
        "nav.analytics": "Auswertung",
        "nav.admin": "Administration",
        "language.label": "Sprache",
        "login.title": "Anmeldung",
        "login.intro": "Bitte melden Sie sich mit Ihrem Konto an. Alle Seiten enthalten Gesundheitsdaten.",
        "login.email": "E-Mail",
        "login.password": "Passwort",
        "login.submit": "Anmelden",
        "login.invalid": "E-Mail oder Passwort ist falsch.",
        "login.locked": "Zu viele Fehlversuche: Das Konto ist noch {minutes} Minute(n) gesperrt.",
        "login.missing": "Bitte E-Mail und Passwort eingeben.",
        "login.timeout": "Ihre Sitzung ist nach {minutes} Minuten ohne Aktivität abgelaufen. Bitte erneut anmelden.",
        "login.logged_out": "Sie sind abgemeldet.",
        "session.user": "Angemeldet als **{name}** ({role})",
        "session.logout": "Abmelden",
        "role.admin": "Administration",
        "role.staff": "Vermittlung",
        "role.manager": "Leitung",
        "role.analyst": "Analyse",
        "status.title": "Systemstatus",
        "status.database": "Datenbank",
        "status.reachable": "erreichbar",
        "status.unreachable": "nicht erreichbar",
        "status.unreachable_detail": "Die Datenbank antwortet nicht: {error}",
        "status.server_version": "PostgreSQL-Version",
        "status.mode": "Betriebsart",
        "status.mode_embedded": "eingebettet",
        "status.mode_external": "eigener Server",
        "status.revision": "Migrationsstand",
        "status.rows": "Datensätze je Tabelle",
        "status.table": "Tabelle",
        "status.count": "Anzahl",
        "status.jobs": "Hintergrundjobs",
        "status.job": "Job",
        "status.description": "Aufgabe",
        "status.schedule": "Zeitplan (cron)",
        "status.last_status": "Letzter Lauf",
        "status.last_started": "Gestartet",
        "status.next_run": "Nächster Lauf",
        "status.never": "noch nie",
        "status.outbox": "Ausgangswarteschlange",
        "status.outbox_events": "Ereignisse unveröffentlicht",
        "status.mail_waiting": "E-Mails wartend",
        "status.mail_dead": "E-Mails endgültig fehlgeschlagen",
        "status.trigger": "Job jetzt ausführen",
        "status.trigger_button": "Ausführen",
        "status.trigger_done": "Job {job}: {status}. Ergebnis: {counts}",
        "status.trigger_skipped": "Job {job} läuft gerade anderswo und wurde übersprungen.",
        "status.trigger_failed": "Job {job} ist fehlgeschlagen: {error}",
        "status.refresh": "Aktualisieren",
        "job.status.succeeded": "erfolgreich",
        "job.status.failed": "fehlgeschlagen",
        "job.status.skipped": "übersprungen",
        "job.status.running": "läuft",
        "job.heartbeat": "Lebenszeichen des Schedulers; zählt die Ausgangswarteschlange.",
        "job.maintenance": "Löscht Job-Protokolle, die älter als 90 Tage sind.",
    },
    "en": {
        "app.title": "Placement workbench",
        "app.subtitle": "Psychotherapy placement",
        "nav.patients": "Patients",
        "nav.therapists": "Therapists",
        "nav.matching": "Matching",
        "nav.communication": "Communication",
        "nav.analytics": "Analytics",
        "nav.admin": "Admin",
        "language.label": "Language",
        "login.title": "Sign in",
        "login.intro": "Please sign in with your account. Every page holds health data.",
        "login.email": "E-mail",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.invalid": "E-mail or password is wrong.",
        "login.locked": "Too many failed attempts: the account is locked for {minutes} more minute(s).",
        "login.missing": "Please enter e-mail and password.",
        "login.timeout": "Your session expired after {minutes} minutes without activity. Please sign in again.",
        "login.logged_out": "You are signed out.",
        "session.user": "Signed in as **{name}** ({role})",
        "session.logout": "Sign out",
        "role.admin": "admin",
        "role.staff": "staff",
        "role.manager": "manager",
        "role.analyst": "analyst",
        "status.title": "System status",
        "status.database": "Database",
        "status.reachable": "reachable",
        "status.unreachable": "unreachable",
        "status.unreachable_detail": "The database does not answer: {error}",
        "status.server_version": "PostgreSQL version",
        "status.mode": "Mode",
        "status.mode_embedded": "embedded",
        "status.mode_external": "own server",
        "status.revision": "Migration revision",
        "status.rows": "Rows per table",
        "status.table": "Table",
        "status.count": "Rows",
        "status.jobs": "Background jobs",
        "status.job": "Job",
        "status.description": "Purpose",
        "status.schedule": "Schedule (cron)",
        "status.last_status": "Last run",
        "status.last_started": "Started",
        "status.next_run": "Next run",
        "status.never": "never",
        "status.outbox": "Outbox",
        "status.outbox_events": "Unpublished events",
        "status.mail_waiting": "Mails waiting",
        "status.mail_dead": "Mails dead",
        "status.trigger": "Run a job now",
        "status.trigger_button": "Run",
        "status.trigger_done": "Job {job}: {status}. Result: {counts}",
        "status.trigger_skipped": "Job {job} is running elsewhere right now and was skipped.",
        "status.trigger_failed": "Job {job} failed: {error}",
        "status.refresh": "Refresh",
        "job.status.succeeded": "succeeded",
        "job.status.failed": "failed",
        "job.status.skipped": "skipped",
        "job.status.running": "running",
        "job.heartbeat": "Scheduler heartbeat; counts the outbox.",
        "job.maintenance": "Deletes job records older than 90 days.",
    },
}


def current_language() -> str:
    """Return the language chosen in this browser session (default: the LANGUAGE setting)."""
    if "language" not in st.session_state:
        from core.config import get_settings

        st.session_state["language"] = get_settings().language
    return st.session_state["language"]


def t(key: str, **values: object) -> str:
    """Return the text for ``key`` in the current language, with ``values`` filled in."""
    text = CATALOG[current_language()].get(key) or CATALOG["de"].get(key) or key
    return text.format(**values) if values else text


def language_switch(key: str) -> None:
    """Show the language choice; a change takes effect in the same rerun (set by the callback)."""
    current = current_language()

    def switch() -> None:
        st.session_state["language"] = st.session_state[key]

    st.selectbox(
        t("language.label"),
        options=list(LANGUAGES),
        index=list(LANGUAGES).index(current),
        format_func=LANGUAGES.__getitem__,
        key=key,
        on_change=switch,
    )
