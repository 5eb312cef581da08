"""The gettext catalogues: every message code core can return has a German and an English text."""

import re
import string
from pathlib import Path

import pytest

from dashboards.i18n import read_catalogue

CODE_USE = re.compile(r"""\bMessage\(\s*["']([a-z_][a-z0-9_.]+)["']""")
FIELD_USE = re.compile(r"""\bfield_name\(\s*["']([a-z_]+)["']""")
FIELD_KEYWORD = re.compile(r"""\bfield=["']([a-z_]+)["']""")


def entries(language: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for message in read_catalogue(language):
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        found[key] = tuple(message.string) if isinstance(message.string, tuple) else (message.string,)
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def codes_used_in_core(repo_root: Path) -> set[str]:
    used = set()
    for path in (repo_root / "core").rglob("*.py"):
        source = path.read_text()
        used |= set(CODE_USE.findall(source))
        if "Message(" in source:  # a module that speaks in codes names its fields through field_name(field)
            used |= {f"field.{name}" for name in FIELD_USE.findall(source) + FIELD_KEYWORD.findall(source)}
    return used


def test_catalogues__german_and_english_have_the_same_codes():
    assert set(entries("de")) == set(entries("en"))


@pytest.mark.parametrize("language", ["de", "en"])
def test_catalogues__every_text_is_filled_in(language):
    empty = [key for key, texts in entries(language).items() if not all(t.strip() for t in texts)]
    assert empty == []


def test_catalogues__both_languages_fill_in_the_same_values():
    german, english = entries("de"), entries("en")
    differ = {
        key: (german[key], english[key])
        for key in german
        if set().union(*map(placeholders, german[key])) != set().union(*map(placeholders, english[key]))
    }
    assert differ == {}


def test_every_message_code_core_returns_has_both_translations(repo_root):
    used = codes_used_in_core(repo_root)
    assert len(used) > 40, "the scan found too few Message(...) codes; the pattern is broken"
    assert used - set(entries("de")) == set()
    assert used - set(entries("en")) == set()


def test_plurals__one_inquiry_is_singular_and_numbers_are_german():
    from dashboards.i18n import plural_in

    assert plural_in("de", "proposals.count", 1, expected="0,4") == "1 vorgeschlagene Anfrage · erwartet 0,4 Zusagen"
    assert plural_in("de", "proposals.count", 3, expected="1,2").startswith("3 vorgeschlagene Anfragen")
    assert plural_in("en", "patient.rejections.count", 1) == "1 practice contacted"
    assert plural_in("de", "patient.rejections.count", 1200) == "1200 Praxen kontaktiert"
