"""Entered text shown literally inside Markdown: st.title, st.markdown, st.caption and st.table cells render it.

A name, a reason or a message carrying ``![x](https://...)`` would make every viewer's browser fetch that
address, and ``**``, ``:red[...]`` or ``$...$`` would restyle the page. ``literal`` backslash-escapes the
characters that start such constructs and leaves everyday punctuation (``Dr.``, ``10115 Berlin``,
``praxis@example.org``) as it is, so the source reads like the text. Example:

    st.title(literal(patient_name))   # "![x](u)" -> "\\!\\[x\\](u)", shown as typed
"""

from __future__ import annotations

import re
from typing import Any

# images/links ([ ] !), emphasis, code, HTML, LaTeX. Not ':' and not bare addresses: Streamlit turns
# "https://..." into a link (never fetched) after the escapes are resolved, so an escape changes nothing there.
_ACTIVE = re.compile(r"([\\`*_\[\]<>!$~])")


def literal(value: Any) -> str:
    """Return ``value`` as Markdown source that shows it literally (None -> "")."""
    return "" if value is None else _ACTIVE.sub(r"\\\1", str(value))
