"""Show a mail's HTML so that nothing in it runs or loads: a sandboxed frame without scripts or origin.

Mail HTML comes from outside (the local catcher accepts mail from any user on the machine), so it is
hostile until proven otherwise. Three walls, each enough on its own for scripts:
1. the mail sits in ``<iframe sandbox srcdoc>``: no scripts, no event handlers, an opaque origin, so it
   can neither run code nor reach the app page or its cookies;
2. that frame lives in a ``data:`` document, itself of an opaque origin (not the app's);
3. a Content-Security-Policy (inherited by the srcdoc frame) forbids every fetch: remote images,
   stylesheets, fonts and frames stay unloaded, so a mail cannot report that it was opened.
Links open in a new tab (``<base target="_blank">``), outside the sandbox, only when clicked.
"""

from __future__ import annotations

import base64
import html

import streamlit as st

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
SANDBOX = "allow-popups allow-popups-to-escape-sandbox"  # links may open a tab; nothing else is allowed


def document(mail_html: str) -> str:
    """Return the wrapper page (a data: URL's content) that shows ``mail_html`` inert."""
    inner = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}"><base target="_blank">{mail_html}'
    return (
        f'<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        "<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%;background:#fff}</style>"
        f'</head><body><iframe sandbox="{SANDBOX}" referrerpolicy="no-referrer" title="mail"'
        f' srcdoc="{html.escape(inner, quote=True)}"></iframe></body></html>'
    )


def show(mail_html: str, *, height: int = 480) -> None:
    """Render ``mail_html`` inert (see the module docstring) in a frame of ``height`` pixels."""
    encoded = base64.b64encode(document(mail_html).encode()).decode()
    st.iframe(f"data:text/html;charset=utf-8;base64,{encoded}", height=height, alt="E-Mail")
