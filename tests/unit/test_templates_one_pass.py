"""Text and HTML parts come from one marked Jinja pass: equal to rendering subject, text and HTML one by one (#13)."""

import random
from datetime import date

import pytest

from core.communication import templates
from core.communication.templates import LANGUAGES, TEMPLATES, render, render_reference, sample_context

PIECES = ["Lea", "Müller-Lüdenscheidt", "O'Brien_1", "<b>fett</b>", "*kein* Fokus_", "[x](https://e.example)",
          "# Titel", "", " ", "1.", "12", "Zeile\nzwei", "x\\", "&auml;", "zqxslot0tolsxqz", "A  B", "Mo\tDi",
          "https://vermittlung.example.org/answer?token=1.2.a_b-c", "javascript:alert(1)", "🙂", "**", "---",
          "> Zitat", "- Punkt", "`code`", "{{ nicht }}", "\x02", "\x03v0\x03"]  # fmt: skip


def nasty(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 4)))


def scramble(rng: random.Random, value):
    """A value of the same kind as ``value`` with random text (Markdown, HTML, markers, blanks) where text was."""
    if isinstance(value, str):
        return nasty(rng) if rng.random() < 0.7 else value
    if isinstance(value, list):
        count = rng.randrange(0, 7) if value and isinstance(value[0], dict) else len(value)
        return [scramble(rng, rng.choice(value)) for _ in range(count)] if value else value
    if isinstance(value, dict):
        return {key: scramble(rng, item) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return rng.choice([value, 0, 7, 123456])
    return value


def random_contexts(template: str, rounds: int) -> list[dict]:
    rng = random.Random(f"{template}-13")
    sample = sample_context(template)
    contexts = []
    for _ in range(rounds):
        context = scramble(rng, sample)
        if "capacity_url" in context and rng.random() < 0.3:
            del context["capacity_url"]  # the template's "is defined" branch
        if "sent_on" in context:
            context["sent_on"] = date(2026, rng.randrange(1, 13), rng.randrange(1, 29))
        contexts.append(context)
    return contexts


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_render__one_pass_equals_the_parts_rendered_one_by_one(template, language):
    assert templates._one_pass(template, templates.template_language(template, language)) is not None
    for context in random_contexts(template, rounds=40):
        assert render(template, language=language, context=context) == render_reference(
            template, language=language, context=context
        )


def test_render__a_missing_value_is_still_named():
    context = {**sample_context("reminder")}
    del context["practice_name"]
    with pytest.raises(Exception, match="practice_name"):
        render("reminder", language="de", context=context)
