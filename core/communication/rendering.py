"""What a rendered mail is, shared by the templates (writer) and the sender (reader), and its plain-text markup.

``plain_markup`` turns a template's Markdown *markup* into what a plain-text mail shows, before any value is
inserted (values are shown as they are, so a name with "#" or "*" is never changed):

    plain_markup("### {{ ref }}\\n- **Alter:** 34\\n[Antwort geben](https://x)")
    -> "{{ ref }}\\n- Alter: 34\\nAntwort geben: https://x"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\n]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?![\s*])([^*\n]+?)(?<![\s*])\*(?![\w*])")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str  # plain-text body: no Markdown marks
    html: str  # HTML body (autoescaped)


def plain_markup(markdown: str) -> str:
    """Return template Markdown as plain text: headings as their words, links as "label: url", no emphasis marks."""
    text = _HEADING.sub(r"\1", markdown)
    text = _LINK.sub(r"\1: \2", text)
    text = _STRONG.sub(lambda match: match[1] or match[2], text)
    return _EMPHASIS.sub(r"\1", text)
