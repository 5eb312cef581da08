"""Every filter reason has a German and an English sentence that format with exactly the values the core provides."""

import re

import pytest

from core.matching.filters import SENTENCES
from dashboards.i18n import text_in


@pytest.mark.parametrize("language", ["de", "en"])
def test_reason_texts__use_the_same_placeholders_as_the_core(language):
    field = re.compile(r"{(\w+)")
    for code, english in SENTENCES.items():
        translated = text_in(language, f"reason.{code}")
        assert translated != f"reason.{code}", code
        assert set(field.findall(translated)) == set(field.findall(english)), code
