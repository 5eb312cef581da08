"""Mail templates: Jinja2 over Markdown, rendered to a subject, plain text and autoescaped HTML.

Each template lives in ``templates/<name>.<language>.md``: a front matter with the subject, then the
Markdown body. Undefined variables are errors (StrictUndefined). For the HTML part every value is escaped
*before* Markdown sees it (every ASCII punctuation character gets a backslash, and markdown-it runs with
raw HTML disabled), so a value can neither inject HTML (``<script>`` arrives as ``&lt;script&gt;``) nor
Markdown (links, emphasis, headings). The plain-text part comes from the same source with the values as
they are; headings lose their "#", emphasis its stars and links become "label: url" (rendering.plain_markup).
Therapist templates exist in German only (a request for English falls back to German); patient templates
exist in German and English.

    mail = render("inquiry", language="de", context=sample_context("inquiry"))
    mail.subject  # "Anfrage A-2026-000123: 2 Patient/innen suchen einen Therapieplatz"
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from core.communication.rendering import RenderedMail, plain_markup
from core.errors import ValidationError
from core.messages import Message

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
THERAPIST_TEMPLATES = ("inquiry", "reminder", "answer_ack")
PATIENT_TEMPLATES = ("search_started", "placement_write", "placement_call", "status_update")
TEMPLATES = THERAPIST_TEMPLATES + PATIENT_TEMPLATES
LANGUAGES = ("de", "en")

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character (CommonMark escapable)
_FRONT = re.compile(r"\A---\n(?P<head>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_MARKDOWN = MarkdownIt("commonmark", {"html": False})

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "female": "weiblich", "male": "männlich", "diverse": "divers", "unknown": "keine Angabe",
        "statutory": "gesetzlich", "private": "privat", "subsidy": "Beihilfe",
        "self_pay": "Selbstzahlung", "other": "sonstige",
        "accepted": "Platz angeboten", "declined_capacity": "kein Platz frei", "declined_unsuitable": "passt nicht",
        "declined_other": "abgesagt (anderer Grund)", "none": "keine Angabe", "any": "alle Verfahren",
        "VT": "Verhaltenstherapie", "TP": "tiefenpsychologisch fundierte Therapie", "AP": "analytische Therapie",
        "ST": "systemische Therapie",
    },
    "en": {
        "female": "female", "male": "male", "diverse": "diverse", "unknown": "not stated",
        "statutory": "statutory", "private": "private", "subsidy": "civil-service allowance",
        "self_pay": "self-pay", "other": "other",
        "accepted": "place offered", "declined_capacity": "no capacity", "declined_unsuitable": "not suitable",
        "declined_other": "declined (other reason)", "none": "not stated", "any": "any method",
        "VT": "cognitive behavioural therapy", "TP": "psychodynamic therapy", "AP": "psychoanalytic therapy",
        "ST": "systemic therapy",
    },
}  # fmt: skip


def label(value: Any, language: str = "de") -> str:
    """Return the mail wording of a code (gender, insurance type, outcome, procedure); unknown codes as they are."""
    key = getattr(value, "value", value)
    return LABELS.get(language, LABELS["de"]).get(str(key), str(key))


def escape_markdown(value: Any) -> str:
    """Return ``value`` as text that Markdown shows literally (None -> empty): the HTML part's finalizer."""
    if value is None:
        return ""
    return _PUNCTUATION.sub(r"\\\1", str(value))


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _environment(finalize: Any) -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - values are Markdown-escaped by finalize; markdown-it escapes all HTML
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


_HTML_ENV = _environment(escape_markdown)
_TEXT_ENV = _environment(_plain)


class _Slots:
    """Collect the values of one HTML render and stand a placeholder in for each value that is safe to swap."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, value: Any) -> str:
        text = _plain(value)
        if not _swappable(text):
            return escape_markdown(value)  # in the skeleton as it is: exact, part of the cache key
        self.values.append(text)
        return f"{_SLOT_MARK}{len(self.values) - 1}{_SLOT_MARK[::-1]}"


def _swappable(text: str) -> bool:
    """True if Markdown shows ``text`` (escaped) as exactly its HTML-escaped self wherever a placeholder would be.

    Letters or digits at both ends keep emphasis and block rules as they are for the placeholder (which starts
    and ends with a letter); digits only could start an ordered list, blanks and control characters could
    change line structure, so such values stay in the skeleton.
    """
    return (
        bool(text)
        and text[0].isalnum()
        and text[-1].isalnum()
        and not text.isdigit()
        and text.isprintable()
        and "  " not in text
        and _SLOT_MARK not in text.lower()
    )


_SLOT_MARK = "zqxslot"
_SLOT = re.compile(rf"{_SLOT_MARK}(\d+){_SLOT_MARK[::-1]}")
_HREF_SLOT = re.compile(rf'href="{_SLOT_MARK}(\d+){_SLOT_MARK[::-1]}"')
_ATTRIBUTE_SLOT = re.compile(rf'="[^"]*{_SLOT_MARK}')
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=]+")  # what normalizeLink leaves as it is
_current_slots: contextvars.ContextVar[_Slots] = contextvars.ContextVar("mail_slots")
_SKELETON_ENV = _environment(lambda value: _current_slots.get()(value))
_SKELETONS_LOCK = threading.Lock()
_SKELETONS: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()  # skeleton Markdown -> its HTML
SKELETON_CACHE_SIZE = 512  # shapes of mail (template, items, inlined values); a miss costs one Markdown render


def template_language(template: str, language: str) -> str:
    """Return the language a template is rendered in: ``language`` if it exists, else German."""
    if template not in TEMPLATES:
        raise ValidationError(
            Message(
                "mail.template_unknown",
                "Unknown mail template '{template}'; use one of {valid}",
                template=template,
                valid=", ".join(TEMPLATES),
            ),
            field="template",
        )
    if language not in LANGUAGES:
        raise ValidationError(
            Message(
                "mail.language_unknown",
                "Unknown mail language '{language}'; use one of {valid}, e.g. de",
                language=language,
                valid=", ".join(LANGUAGES),
            ),
            field="language",
        )
    return language if _translated(template, language) else "de"


@cache
def _translated(template: str, language: str) -> bool:
    # once per process, like the compiled templates: a run renders thousands of mails of one template
    return (TEMPLATE_DIR / f"{template}.{language}.md").exists()


@cache
def _compiled(template: str, language: str) -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
    source = (TEMPLATE_DIR / f"{template}.{language}.md").read_text(encoding="utf-8")
    match = _FRONT.match(source)
    if match is None or not match["head"].startswith("subject:"):
        raise ValidationError(
            Message(
                "mail.template_front_matter",
                "Template {file} needs a front matter with its subject",
                file=f"{template}.{language}.md",
            ),
            field="template",
        )
    subject = match["head"].removeprefix("subject:").strip()
    text_source = plain_markup(match["body"])  # template markup only, never values
    return _TEXT_ENV.from_string(subject), _TEXT_ENV.from_string(text_source), _HTML_ENV.from_string(match["body"])


@cache
def _compiled_skeleton(template: str, language: str) -> jinja2.Template:
    _compiled(template, language)  # validates the front matter
    source = (TEMPLATE_DIR / f"{template}.{language}.md").read_text(encoding="utf-8")
    return _SKELETON_ENV.from_string(_FRONT.match(source)["body"])


# a plain web address: scheme and host (letters, digits, dots, hyphens; optional port), then path/query/fragment
_PLAIN_LINK = re.compile(r"(https?://[A-Za-z0-9.\-]+(?::[0-9]+)?)([/?#][A-Za-z0-9\-._~:/?#@!$&'*+,;=]*)")
_LINK_HEADS: dict[str, str] = {}  # scheme and host -> what normalizeLink makes of them (few distinct values)


def normalize_link(url: str) -> str:
    """``_MARKDOWN.normalizeLink(url)``, with the scheme and host of a plain web address normalised once.

    In such an address normalizeLink changes at most the scheme and host (case, punycode): the rest consists
    of characters it leaves as they are. The first link of every host is normalised in full and the split
    checked, so a head is cached only when the result really is the head's result plus the unchanged rest.
    """
    match = _PLAIN_LINK.fullmatch(url)
    if match is None:
        return _MARKDOWN.normalizeLink(url)
    head, rest = match[1], match[2]
    normalized_head = _LINK_HEADS.get(head)
    if normalized_head is not None:
        return normalized_head + rest
    normalized = _MARKDOWN.normalizeLink(url)
    if normalized.endswith(rest) and len(_LINK_HEADS) < SKELETON_CACHE_SIZE:
        _LINK_HEADS[head] = normalized[: len(normalized) - len(rest)]
    return normalized


def _fill(skeleton_html: str, values: list[str]) -> str | None:
    """Put the values into the rendered skeleton; None if a placeholder sits where swapping is not exact."""
    found = [int(n) for n in _SLOT.findall(skeleton_html)]
    if sorted(found) != list(range(len(values))) or "<code" in skeleton_html or "<pre" in skeleton_html:
        return None
    hrefs = {int(n) for n in _HREF_SLOT.findall(skeleton_html)}
    if any(not _URL.fullmatch(values[n]) for n in hrefs):
        return None
    if len(_ATTRIBUTE_SLOT.findall(skeleton_html)) != len(hrefs):
        return None
    html = _HREF_SLOT.sub(lambda m: f'href="{escapeHtml(normalize_link(values[int(m[1])]))}"', skeleton_html)
    return _SLOT.sub(lambda m: escapeHtml(values[int(m[1])]), html)


def _html(template: str, language: str, values: Mapping[str, Any]) -> str:
    """Render the HTML part: Markdown runs once per mail shape, the values are put into its cached result.

    Byte for byte what ``_MARKDOWN.render(html_template.render(values))`` gives (``_html_reference``): the
    first mail of every shape is rendered both ways and the shape falls back to the full render if they differ.
    """
    slots = _Slots()
    token = _current_slots.set(slots)
    try:
        skeleton = _compiled_skeleton(template, language).render(values)
    finally:
        _current_slots.reset(token)
    return _html_of_skeleton(template, language, skeleton, slots.values, values)


def _html_of_skeleton(template: str, language: str, skeleton: str, slot_values: list[str],
                      values: Mapping[str, Any]) -> str:  # fmt: skip
    """The HTML part from the mail's skeleton Markdown and the values of its placeholders (see ``_html``)."""
    key = (template, language, skeleton)
    with _SKELETONS_LOCK:  # dashboards render mails from several threads
        known = key in _SKELETONS
        skeleton_html = _SKELETONS[key] if known else None
        if known:
            _SKELETONS.move_to_end(key)
    if known:
        html = _fill(skeleton_html, slot_values) if skeleton_html is not None else None
        return html if html is not None else _html_reference(template, language, values)
    skeleton_html = _MARKDOWN.render(skeleton)
    html, reference = _fill(skeleton_html, slot_values), _html_reference(template, language, values)
    with _SKELETONS_LOCK:
        _SKELETONS[key] = skeleton_html if html == reference else None
        while len(_SKELETONS) > SKELETON_CACHE_SIZE:
            _SKELETONS.popitem(last=False)
    return reference


def _html_reference(template: str, language: str, values: Mapping[str, Any]) -> str:
    return _MARKDOWN.render(_compiled(template, language)[2].render(values))


# One Jinja pass for the text and the HTML part. The text template is the body with its Markdown marks taken
# out (plain_markup); where both parse to the same tree apart from their literal text, they take the same
# branches and loops and print the same values in the same order for every context. The body is compiled once
# more with every piece of literal text replaced by a numbered marker and rendered with a finalize that records
# each value and prints a marker for it: from the markers the text part (the text template's literal pieces,
# the values as they are) and the HTML skeleton (the body's pieces, the values as ``_Slots`` prints them) are
# put together. Templates with anything that captures or re-uses output (macros, blocks, filter and set
# blocks, includes) or whose trees differ keep the two renders.
_PIECE_START, _PIECE_END = "\x02", "\x03"  # in a marked render's output only as the markers themselves
_ONE_PASS_STATEMENTS = (jinja2.nodes.Output, jinja2.nodes.For, jinja2.nodes.If, jinja2.nodes.Assign)
_current_values: contextvars.ContextVar[list[Any]] = contextvars.ContextVar("mail_values")


def _record(value: Any) -> str:
    printed = _current_values.get()
    printed.append(value)
    return f"{_PIECE_START}v{len(printed) - 1}{_PIECE_END}"


_ONE_PASS_ENV = _environment(_record)


def _aligned(tree: jinja2.nodes.Template) -> list[jinja2.nodes.TemplateData]:
    """Make every output alternate literal text and values (empty text where none), return the literal pieces.

    The parser leaves out empty text ("### " of a heading is nothing in the text template): with a piece
    before, between and after the values of each output, the two trees line up piece by piece.
    """
    for output in tree.find_all(jinja2.nodes.Output):
        children, pending = [], ""
        for child in output.nodes:
            if isinstance(child, jinja2.nodes.TemplateData):
                pending += child.data
            else:
                children += [jinja2.nodes.TemplateData(pending), child]
                pending = ""
        output.nodes = [*children, jinja2.nodes.TemplateData(pending)]
    return list(tree.find_all(jinja2.nodes.TemplateData))


@cache
def _one_pass(template: str, language: str) -> tuple[jinja2.Template, tuple[str, ...], tuple[str, ...]] | None:
    """The marked body template and the literal pieces of the body and of the text template; None if not exact."""
    _compiled(template, language)  # validates the front matter
    body = _FRONT.match((TEMPLATE_DIR / f"{template}.{language}.md").read_text(encoding="utf-8"))["body"]
    html_tree, text_tree = _ONE_PASS_ENV.parse(body), _ONE_PASS_ENV.parse(plain_markup(body))
    if any(not isinstance(node, _ONE_PASS_STATEMENTS) for node in html_tree.find_all(jinja2.nodes.Stmt)):
        return None
    html_nodes, text_nodes = _aligned(html_tree), _aligned(text_tree)
    html_pieces, text_pieces = tuple(n.data for n in html_nodes), tuple(n.data for n in text_nodes)
    if any(_PIECE_START in piece or _PIECE_END in piece for piece in html_pieces + text_pieces):
        return None
    for node in (*html_nodes, *text_nodes):
        node.data = ""
    if html_tree != text_tree or len(html_pieces) != len(text_pieces):
        return None
    for number, node in enumerate(html_nodes):
        node.data = f"{_PIECE_START}d{number}{_PIECE_END}"
    code = _ONE_PASS_ENV.compile(html_tree)
    marked = _ONE_PASS_ENV.template_class.from_code(_ONE_PASS_ENV, code, _ONE_PASS_ENV.make_globals(None))
    return marked, html_pieces, text_pieces


def _text_and_html(template: str, language: str, values: Mapping[str, Any]) -> tuple[str, str]:
    """The text part and the HTML part of the mail: one marked Jinja pass where exact, else two renders."""
    one_pass = _one_pass(template, language)
    if one_pass is None:
        return _compiled(template, language)[1].render(values), _html(template, language, values)
    marked, html_pieces, text_pieces = one_pass
    printed: list[Any] = []
    token = _current_values.set(printed)
    try:
        pieces = marked.render(values).split(_PIECE_END)
    finally:
        _current_values.reset(token)
    if pieces.pop() != "":  # cannot happen: the output is markers only
        return _compiled(template, language)[1].render(values), _html(template, language, values)
    text, skeleton, slot_values = [], [], []
    for piece in pieces:
        number = int(piece[2:])
        if piece[1] == "d":
            text.append(text_pieces[number])
            skeleton.append(html_pieces[number])
            continue
        value = printed[number]
        plain = _plain(value)
        text.append(plain)
        if _swappable(plain):  # as _Slots prints it
            skeleton.append(f"{_SLOT_MARK}{len(slot_values)}{_SLOT_MARK[::-1]}")
            slot_values.append(plain)
        else:
            skeleton.append(escape_markdown(value))
    return "".join(text), _html_of_skeleton(template, language, "".join(skeleton), slot_values, values)


def render_reference(template: str, *, language: str, context: Mapping[str, Any]) -> RenderedMail:
    """``render`` by its definition: subject, text and HTML templates rendered one by one (for the tests)."""
    used = template_language(template, language)
    subject_t, text_t, _html_t = _compiled(template, used)
    values = {**context, "lang": used, "label": lambda value: label(value, used)}
    subject = " ".join(subject_t.render(values).split())
    return RenderedMail(subject=subject, text=text_t.render(values).strip() + "\n",
                        html=_html_reference(template, used, values))  # fmt: skip


def render(template: str, *, language: str, context: Mapping[str, Any]) -> RenderedMail:
    """Render ``template`` in ``language`` with ``context``; raise ValidationError for a missing variable."""
    used = template_language(template, language)
    subject_t = _compiled(template, used)[0]
    values = {**context, "lang": used, "label": lambda value: label(value, used)}
    try:
        subject = " ".join(subject_t.render(values).split())  # one line: no header injection
        text, html = _text_and_html(template, used, values)
    except jinja2.UndefinedError as exc:
        raise ValidationError(
            Message(
                "mail.template_value_missing",
                "Mail template '{template}' ({language}) needs a value: {detail}",
                template=template,
                language=used,
                detail=str(exc.message),
            ),
            field="context",
        ) from None
    return RenderedMail(subject=subject, text=text.strip() + "\n", html=html)


def sample_context(template: str) -> dict[str, Any]:
    """Return made-up values for ``template`` (the preview page and the tests use them)."""
    from datetime import date

    items = [
        {"patient_reference": "P-7K3F9Q", "age": 34, "gender": "female", "insurance_type": "statutory",
         "symptoms": "Niedergeschlagenheit, Schlafstörungen", "diagnoses": "F32.1",
         "availability": "Mo 08:00–12:00, Mi 14:00–18:00 (10 h pro Woche)", "procedure_wish": "VT",
         "answer_url": "https://vermittlung.example.org/answer?token=1.1790000000.sample"},
        {"patient_reference": "P-2M8R4T", "age": 27, "gender": "male", "insurance_type": "private",
         "symptoms": "Ängste", "diagnoses": "", "availability": "Di–Fr nachmittags (20 h pro Woche)",
         "procedure_wish": "any", "answer_url": "https://vermittlung.example.org/answer?token=2.1790000000.sample"},
    ]  # fmt: skip
    therapist = {"therapist_name": "Dr. Jana Kraus", "reference": "A-2026-000123", "practice_name": "Praxis am Park",
                 "capacity_url": "https://vermittlung.example.org/kapazitaet?token=3.1790000000.sample"}  # fmt: skip
    patient = {"patient_name": "Lea Beispiel", "patient_reference": "P-7K3F9Q",
               "status_url": "https://vermittlung.example.org/mein_stand?token=4.1790000000.sample"}  # fmt: skip
    contact = {
        "therapist_name": "Dr. Jana Kraus",
        "practice_name": "Praxis am Park",
        "therapist_email": "praxis.kraus@example.org",
        "therapist_phone": "030 1234567",
        "therapist_address": "Parkstraße 1, 10115 Berlin",
        "phone_hours": "Mo–Fr 09:00–10:00",
        "first_session": date(2026, 12, 7),
    }
    samples: dict[str, dict[str, Any]] = {
        "inquiry": {**therapist, "items": items, "expires_on": date(2027, 1, 7)},
        "reminder": {**therapist, "items": items, "expires_on": date(2027, 1, 7), "sent_on": date(2026, 11, 26)},
        "answer_ack": {**therapist, "answers": [
            {"patient_reference": "P-7K3F9Q", "outcome": "accepted", "is_conflict": False},
            {"patient_reference": "P-2M8R4T", "outcome": "declined_capacity", "is_conflict": False}]},
        "search_started": {**patient, "started_on": date(2026, 11, 26)},
        "placement_write": {**patient, **contact},
        "placement_call": {**patient, **contact},
        "status_update": {**patient, "waiting_days": 45, "practices_asked": 6, "open_inquiries": 2},
    }  # fmt: skip
    if template not in samples:
        template_language(template, "de")  # raises the clear error
    return samples[template]
