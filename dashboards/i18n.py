"""UI text: German first, with a complete English equivalent (a test keeps the two catalogs in step).

The texts live in dashboards/texts/, one module per area.

Example: ``t("login.title")`` -> "Anmeldung" (or "Sign in" when the user chose English)
"""

from __future__ import annotations

import streamlit as st

from dashboards.texts import AREAS

LANGUAGES = {"de": "Deutsch", "en": "English"}


def _merge() -> dict[str, dict[str, str]]:
    catalog: dict[str, dict[str, str]] = {"de": {}, "en": {}}
    for area in AREAS:
        for language, texts in (("de", area.DE), ("en", area.EN)):
            clash = set(texts) & set(catalog[language])
            if clash:
                raise RuntimeError(f"UI text keys defined twice ({area.__name__}): {sorted(clash)}")
            catalog[language].update(texts)
    return catalog


CATALOG: dict[str, dict[str, str]] = _merge()


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
