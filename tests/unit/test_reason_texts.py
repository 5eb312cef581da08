"""Every filter reason has a German sentence that formats with exactly the values the core provides."""

import re

from core.matching.filters import SENTENCES
from dashboards.texts.matching_pages import DE


def test_reason_texts__german_uses_the_same_placeholders_as_the_core():
    field = re.compile(r"{(\w+)")
    for code, english in SENTENCES.items():
        german = DE[f"reason.{code}"]
        assert set(field.findall(german)) <= set(field.findall(english)), code
