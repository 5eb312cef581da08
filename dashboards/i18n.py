"""UI text: German first, with a complete English equivalent, from gettext catalogues managed with Babel.

Source of the texts: ``locale/<lang>/LC_MESSAGES/messages.po``, the gettext catalogues (de and en), for
page texts and core messages alike. The message ids are stable keys prefixed by their area
("patients.title", "validation.too_long", "reason.too_far"); translators edit the msgstr with any gettext
tool (Poedit, Weblate, ``pybabel update``; see babel.cfg and ``make i18n``). Every message code core
returns (``core.messages.Message``) lives here, with plurals (``msgid_plural``) where a count decides.

The catalogues are compiled in memory from the .po files when the app starts (Babel's own compiler), so
a fresh clone, ``make run`` and ``make test`` never see a stale or missing .mo file.

Example: ``t("login.title")`` -> "Anmeldung" (or "Sign in"); ``say(error)`` -> the error in the user's language.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st
from babel import Locale, UnknownLocaleError
from babel.messages import mofile, pofile
from babel.support import Translations

from core.errors import ValidationError, WorkbenchError
from core.messages import Message
from dashboards import formatting

LANGUAGES = {"de": "Deutsch", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


def read_catalogue(language: str):
    """Return the Babel catalogue of ``language`` as read from its .po file."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return pofile.read_po(source, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> Translations:
    """Return the compiled gettext translations of ``language`` (compiled once per process)."""
    compiled = io.BytesIO()
    mofile.write_mo(compiled, read_catalogue(language))
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def _gettext_keys(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """Return (singular ids, plural ids) the catalogue of ``language`` translates."""
    singular, plural = set(), set()
    for message in read_catalogue(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            plural.add(message.id[0])
        else:
            singular.add(message.id)
    return frozenset(singular), frozenset(plural)


def _catalog() -> dict[str, dict[str, str]]:
    """Return {language: {key: text}} of every singular entry (lookups, tests and the key checks read it)."""
    return {
        language: {key: translations(language).gettext(key) for key in _gettext_keys(language)[0]}
        for language in LANGUAGES
    }


CATALOG: dict[str, dict[str, str]] = _catalog()


def current_language() -> str:
    """Return the language chosen in this browser session (default: the LANGUAGE setting)."""
    if "language" not in st.session_state:
        from core.config import get_settings

        st.session_state["language"] = get_settings().language
    return st.session_state["language"]


def t(key: str, **values: object) -> str:
    """Return the text for ``key`` in the current language, with ``values`` filled in."""
    return text_in(current_language(), key, **values)


def nt(key: str, count: int, **values: object) -> str:
    """Return the plural form of ``key`` that fits ``count`` (``{count}`` is filled in, formatted)."""
    return plural_in(current_language(), key, count, **values)


def text_in(language: str, key: str, **values: object) -> str:
    """Return the text for ``key`` in ``language`` (a key no catalogue knows is returned as it is)."""
    if key in _gettext_keys(language)[0]:
        text = translations(language).gettext(key)
    else:
        text = CATALOG[language].get(key) or CATALOG["de"].get(key) or key
    return text.format(**values) if values else text


def plural_in(language: str, key: str, count: int, **values: object) -> str:
    text = translations(language).ngettext(key, f"{key}.plural", count)
    return text.format(count=formatting.number(count, language=language), **values)


def say(message: Any, language: str | None = None) -> str:
    """Return a core message (``Message``, an error carrying one, or plain text) in the user's language.

    Example: say(ValidationError(Message("validation.required", "{field} is required", field=...)))
    -> "Nachname: Pflichtfeld – bitte ausfüllen." in German
    """
    language = language or current_language()
    if isinstance(message, WorkbenchError):
        message = message.message
    if not isinstance(message, Message):
        return _value(message, language)
    if message.code.startswith("join."):
        return _joined(message, language)
    singular, plural = _gettext_keys(language)
    if message.code.startswith("language.") and message.code not in singular:
        return _language_name(message.code.removeprefix("language."), language) or str(message)
    params = {name: _value(value, language) for name, value in message.params.items()}
    if message.code in plural and isinstance(message.params.get("count"), int):
        text = translations(language).ngettext(message.code, f"{message.code}.plural", message.params["count"])
    elif message.code in singular or message.code in CATALOG[language]:
        text = text_in(language, message.code)
    else:
        return str(message)  # no translation yet: the English text rather than a bare code
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return str(message)


def _joined(message: Message, language: str) -> str:
    items = [_value(item, language) for item in message.params.get("items", [])]
    if message.code == "join.list" or len(items) < 2:
        return ", ".join(items)
    return f"{', '.join(items[:-1])} {text_in(language, message.code)} {items[-1]}"


def _language_name(code: str, language: str) -> str | None:
    """Return a language's name in ``language`` ("tr" -> "Türkisch"), None for an unknown code."""
    try:
        return Locale.parse(language).languages.get(code)
    except (ValueError, UnknownLocaleError):
        return None


def audit_action(action: str) -> str:
    """Return an audit action in words ("patient.viewed" -> "Akte geöffnet"); an action without a text as it is."""
    key = f"audit.action.{action}"
    return t(key) if key in CATALOG[current_language()] else action


def job_counts(counts: Mapping[str, Any]) -> str:
    """Return a job run's counts in words: {"sent": 3, "window_open": True} -> "gesendet: 3, Sendefenster offen: ja"."""
    language = current_language()
    parts = []
    for name, value in counts.items():
        key = f"jobcount.{name}"
        label = text_in(language, key) if key in CATALOG[language] else name.replace("_", " ")
        if name == "window_reason":
            value = say(Message(f"window.reason.{value}", str(value)), language)
        parts.append(f"{label}: {_value(value, language) if value not in (None, '', []) else '—'}")
    return ", ".join(parts) or "—"


def field_errors(error: ValidationError, language: str | None = None) -> dict[str, str]:
    """Return a ValidationError's per-field messages in the user's language."""
    return {field: say(text, language) for field, text in error.errors.items()}


def _value(value: Any, language: str) -> str:
    if isinstance(value, Message):
        return say(value, language)
    if isinstance(value, bool):
        return say(Message(f"bool.{str(value).lower()}", str(value).lower()), language)
    if isinstance(value, int | float):
        return formatting.number(value, language=language)
    if isinstance(value, datetime):
        return formatting.moment(value, language=language)
    if isinstance(value, date):
        return formatting.day(value, language=language)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_value(item, language) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{_value(k, language)}: {_value(v, language)}" for k, v in value.items())
    return str(value)


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
