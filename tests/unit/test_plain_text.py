"""Entered text inside Markdown shows literally: images, links, emphasis and LaTeX are escaped, punctuation kept."""

import pytest

from dashboards.plain_text import literal


@pytest.mark.parametrize(
    ("typed", "source"),
    [
        ("![x](https://t.example/p.png)", r"\!\[x\](https://t.example/p.png)"),  # an image: never fetched
        ("[hier](https://t.example)", r"\[hier\](https://t.example)"),  # a link
        ("**laut** _leise_ `code` ~~weg~~", r"\*\*laut\*\* \_leise\_ \`code\` \~\~weg\~\~"),  # styling
        (":red[rot] $x^2$ <b>", r":red\[rot\] \$x^2\$ \<b\>"),  # Streamlit colour, LaTeX, HTML
        ("Dr. Mara Beispiel, 10115 Berlin, praxis@example.org", "Dr. Mara Beispiel, 10115 Berlin, praxis@example.org"),
        ("C:\\Pfad", r"C:\\Pfad"),  # a backslash itself
        (None, ""),  # nothing entered
    ],
)
def test_literal__escapes_what_markdown_would_render_and_keeps_the_rest(typed, source):
    assert literal(typed) == source
