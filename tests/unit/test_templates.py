"""Mail templates: every template renders in every language, values are escaped in HTML, nothing is undefined."""

import pytest

from core.communication import templates
from core.communication.templates import (
    LANGUAGES,
    PATIENT_TEMPLATES,
    TEMPLATES,
    THERAPIST_TEMPLATES,
    render,
    sample_context,
)
from core.errors import ValidationError

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_render__every_template_renders_subject_text_and_html(template, language):
    mail = render(template, language=language, context=sample_context(template))
    assert mail.subject
    assert "\n" not in mail.subject
    assert "{{" not in mail.text
    assert "{%" not in mail.text
    assert mail.html.startswith("<p>")
    assert "**" not in mail.text  # Markdown emphasis is gone from the plain text


@pytest.mark.parametrize("template", PATIENT_TEMPLATES)
def test_render__patient_mails_exist_in_english(template):
    german = render(template, language="de", context=sample_context(template))
    english = render(template, language="en", context=sample_context(template))
    assert german.subject != english.subject
    assert "Dear Lea Beispiel" in english.text
    assert "Guten Tag Lea Beispiel" in german.text


@pytest.mark.parametrize("template", THERAPIST_TEMPLATES)
def test_render__therapist_mails_carry_the_inquiry_reference_in_the_subject(template):
    mail = render(template, language="de", context=sample_context(template))
    assert "A-2026-000123" in mail.subject


def test_render__therapist_mails_fall_back_to_german():
    assert render("inquiry", language="en", context=sample_context("inquiry")).subject.startswith("Anfrage")


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("search_started", "patient_name"),  # greeting of a patient mail
        ("placement_call", "therapist_name"),  # in subject and body
        ("inquiry", "therapist_name"),  # greeting of a therapist mail
    ],
)
def test_render__escapes_a_script_name_in_html(template, key):
    mail = render(template, language="de", context={**sample_context(template), key: SCRIPT})
    assert SCRIPT not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert SCRIPT in mail.text  # the plain text shows the value as it is


def test_render__escapes_values_inside_inquiry_items():
    context = sample_context("inquiry")
    items = [{**context["items"][0], "symptoms": f"{SCRIPT} [klick](https://evil.example.org) **laut**"}]
    mail = render("inquiry", language="de", context={**context, "items": items})
    assert "<script>" not in mail.html
    assert 'href="https://evil' not in mail.html
    assert "<strong>laut</strong>" not in mail.html


def test_render__keeps_answer_links_clickable():
    mail = render("inquiry", language="de", context=sample_context("inquiry"))
    assert '<a href="https://vermittlung.example.org/answer?token=1.1790000000.sample">' in mail.html
    assert "https://vermittlung.example.org/answer?token=1.1790000000.sample" in mail.text


def test_render__a_missing_value_is_an_error():
    context = dict(sample_context("inquiry"))
    del context["expires_on"]
    with pytest.raises(ValidationError, match="expires_on") as error:
        render("inquiry", language="de", context=context)
    assert error.value.field == "context"


@pytest.mark.parametrize(
    ("template", "language", "message"),
    [
        ("invitation", "de", "Unknown mail template 'invitation'"),  # not a template
        ("inquiry", "fr", "Unknown mail language 'fr'"),  # no French mails
    ],
)
def test_render__names_unknown_templates_and_languages(template, language, message):
    with pytest.raises(ValidationError, match=message):
        render(template, language=language, context={})


def test_render__subject_stays_on_one_line():
    context = {**sample_context("placement_write"), "therapist_name": "Kraus\r\nBcc: x@example.org"}
    mail = render("placement_write", language="de", context=context)
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject


def test_label__translates_codes_and_keeps_unknown_ones():
    assert templates.label("statutory", "de") == "gesetzlich"
    assert templates.label("statutory", "en") == "statutory"
    assert templates.label("XYZ", "de") == "XYZ"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_render__the_text_part_is_plain_text_without_markdown(template, language):
    import re

    text = render(template, language=language, context=sample_context(template)).text
    assert not re.search(r"(?m)^\s*#{1,6}\s", text), text  # no Markdown heading marks
    assert not re.search(r"\[[^\]\n]+\]\([^)\n]+\)", text), text  # no Markdown link syntax
    assert "**" not in text


def test_render__inquiry_text_names_each_patient_in_a_heading_line_of_its_own():
    context = sample_context("inquiry")
    text = render("inquiry", language="de", context=context).text
    reference = context["items"][0]["patient_reference"]
    assert f"\n1. {reference}\n" in text
    assert "###" not in text
