"""What a rendered mail is, shared by the templates (writer) and the sender (reader)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str  # plain-text body
    html: str  # HTML body (autoescaped)
