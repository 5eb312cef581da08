"""Mail HTML is rendered from a cached Markdown skeleton per mail shape: byte for byte the full render."""

from datetime import date

import pytest
from markdown_it import MarkdownIt

from core.communication import templates
from core.communication.templates import LANGUAGES, TEMPLATES, render, sample_context

FULL_MARKDOWN = MarkdownIt("commonmark", {"html": False})  # the rendering before skeletons: every mail parsed


def full_render_html(template: str, language: str, context: dict) -> str:
    used = templates.template_language(template, language)
    values = {**context, "lang": used, "label": lambda value: templates.label(value, used)}
    return FULL_MARKDOWN.render(templates._compiled(template, used)[2].render(values))


def item(reference: str, **changes) -> dict:
    base = {"patient_reference": reference, "age": 34, "gender": "female", "insurance_type": "statutory",
            "symptoms": "Ängste, Schlafstörungen", "diagnoses": "F32.1", "availability": "Mo 08:00–12:00",
            "procedure_wish": "VT",
            "answer_url": f"https://vermittlung.example.org/answer?token={reference}.17.ab_c-d"}  # fmt: skip
    return {**base, **changes}


TRICKY = [
    item("P-1"),
    item("P-2", symptoms='*kein* Fokus_ [link](https://evil.example) <b>fett</b> & "Zitat"', age=7),
    item("P-3", symptoms="1. Zeile\n2. Zeile", diagnoses="", availability=None),
    item("P-4", symptoms="  Leerzeichen  am Rand ", diagnoses="# Überschrift", availability="12"),
    item("P-5", answer_url="javascript:alert(1)", symptoms="x\\", diagnoses="&auml; &#123;"),
    item("P-6", symptoms="zqxslot0tolsxqz", diagnoses="A  B", availability="Mo\tDi"),
]


def contexts(template: str) -> list[dict]:
    sample = sample_context(template)
    variants = [sample, {**sample}]  # the second render of a shape goes through the cached skeleton
    if "items" in sample:
        variants += [{**sample, "items": [case]} for case in TRICKY]
        variants += [{**sample, "items": TRICKY, "therapist_name": "Dr. <i>Kraus</i> & **Partner**"}]
        variants += [{**sample, "items": [item("P-9", age=61)], "sent_on": date(2026, 1, 2)}]
    for key in ("patient_name", "therapist_name", "practice_name"):
        if key in sample:
            variants += [{**sample, key: "Müller-Lüdenscheidt [Dr.]"}, {**sample, key: "O'Brien_1"}]
    return variants


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_render__html_is_byte_identical_to_a_full_markdown_render(template, language):
    for _round in range(2):  # first round fills the skeleton cache, the second reads from it
        for context in contexts(template):
            assert render(template, language=language, context=context).html == full_render_html(
                template, language, context
            )


def test_render__mails_of_one_shape_parse_markdown_once(monkeypatch):
    templates._SKELETONS.clear()
    calls = []
    original = templates._MARKDOWN.render
    monkeypatch.setattr(templates._MARKDOWN, "render", lambda source: calls.append(1) or original(source))
    sample = sample_context("reminder")
    for n in range(50):
        context = {**sample, "reference": f"A-2026-{n:06d}", "items": [item(f"P-{n:04d}")]}
        assert render("reminder", language="de", context=context).html == full_render_html("reminder", "de", context)
    assert len(calls) == 2  # the skeleton once, and once the full render that checks it


def test_normalize_link__matches_markdown_it_on_random_addresses():
    """Answer links are normalised with the host cached: the result is always markdown-it's own."""
    import random

    rnd = random.Random(13)
    hosts = ["vermittlung.example.org", "Vermittlung.EXAMPLE.org", "localhost", "127.0.0.1", "xn--bcher-kva.example"]
    characters = "ABCxyz019-._~:/?#@!$&'*+,;=%[]()ÄéΩ <>\"\\"
    for index in range(5_000):
        if index % 7 == 0:
            templates._LINK_HEADS.clear()  # first links of a host (normalised in full) as well as cached ones
        scheme = rnd.choice(["http://", "https://", "HTTPS://", "mailto:", ""])
        rest = rnd.choice("/?#x") + "".join(rnd.choice(characters) for _ in range(rnd.randint(0, 40)))
        url = scheme + rnd.choice(hosts) + rnd.choice(["", ":8501"]) + rest
        assert templates.normalize_link(url) == FULL_MARKDOWN.normalizeLink(url), url
