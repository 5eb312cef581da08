"""Form state that survives navigation: widgets are filled from the form's own copy, never from defaults.

Streamlit drops a widget's state when a run does not draw it (the user opened another page), and a widget
without state shows its default: an empty text, today for a date. A form therefore keeps what matters under
its own key and refills every widget that lost its state:

    fresh = form_state.seed(key, widget_values)   # the record's values as the widgets show them
    ...                                            # on submit: form_state.keep_draft(key, names) first
    form_state.reset(key)                          # after a successful save, or to drop the input

The input of a failed save (``{key}__draft``) wins over the record until it is saved or dropped, so it comes
back after a visit to another page; so does input typed but not yet saved (``{key}__unsaved``, kept by
dashboards/components/form_drafts.py, which also brings it back after a reload). Otherwise the widgets show
the record as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st


def seed(key: str, values: Mapping[str, Any]) -> bool:
    """Fill every widget ``{key}_{name}`` without state; return True if the form now shows ``values`` afresh."""
    state = st.session_state
    missing = [name for name in values if f"{key}_{name}" not in state]
    if not missing:
        return False
    draft, unsaved = state.get(f"{key}__draft"), state.get(f"{key}__unsaved")
    source = {**values, **(unsaved or {}), **(draft or {})}
    for name in missing:
        state[f"{key}_{name}"] = source[name]
    return draft is None and unsaved is None and len(missing) == len(values)


def keep_draft(key: str, names: Iterable[str]) -> None:
    """Remember the widgets' current values as the form's input until the save succeeds."""
    st.session_state[f"{key}__draft"] = {name: st.session_state.get(f"{key}_{name}") for name in names}


def has_draft(key: str) -> bool:
    """Return True while the form holds the input of a save that failed."""
    return st.session_state.get(f"{key}__draft") is not None


def reset(key: str) -> None:
    """Forget the form's state, the unsaved input included (after a save, or to reload the record)."""
    for name in [k for k in st.session_state if str(k).startswith(f"{key}_")]:
        del st.session_state[name]
