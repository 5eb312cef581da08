"""Messages as codes with parameters, so that the UI can say them in the user's language.

Core never knows the user's language. Where it tells a person something (a field error, why a search
cannot start, why a therapist fits or not), it returns a ``Message``: a stable ``code`` that the UI looks
up in its gettext catalogue (locale/<lang>/LC_MESSAGES/messages.po), the ``params`` to fill in, and an
English text for logs and the CLI. A ``Message`` *is* that English ``str``, so code that only logs or
joins messages keeps working unchanged.

A parameter may itself be a ``Message`` (an enum value, a field name) or a list of them; the UI translates
those too, and formats numbers and dates in the user's locale.

Example:
    m = Message("validation.too_long", "{field} has {length} characters; at most {max_length} are allowed",
                field=field_name("last_name"), length=300, max_length=100)
    str(m)        # "last_name has 300 characters; at most 100 are allowed" (logs)
    m.code        # "validation.too_long" -> de: "Nachname hat 300 Zeichen; erlaubt sind höchstens 100."
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """A translatable message: ``code`` + ``params``; its string value is the English text."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, english: str, /, **params: Any) -> Message:
        text = english.format(**params) if params else english
        message = super().__new__(cls, text)
        message.code = code
        message.params = params
        return message

    def __reduce__(self):
        return (restore, (self.code, str(self), self.params))


def restore(code: str, text: str, params: dict[str, Any] | None = None) -> Message:
    """Return a stored message (code, its English text, its parameters) as a ``Message`` again."""
    message = Message(code, text.replace("{", "{{").replace("}", "}}"))
    message.params = dict(params or {})
    return message


def term(code: str, english: str) -> Message:
    """Return a word the UI translates on its own, e.g. term("gender.female", "female") as a parameter."""
    return Message(code, english)


def field_name(field: str) -> Message:
    """Return a form field's name as a translatable word ("last_name" -> "Nachname" in German)."""
    return Message(f"field.{field}", field)


JOINERS = {"and": " and ", "or": " or ", ",": ", "}


def words(items: list[Any], joiner: str = ",") -> Message:
    """Return a list as one value: "VT, TP" / "adults and children" in English, "und"/"oder" in German.

    ``joiner`` is "," (a plain list), "and" or "or"; the UI joins the translated items the same way.
    """
    english = JOINERS[joiner].join(str(item) for item in items)
    message = Message(f"join.{'list' if joiner == ',' else joiner}", english.replace("{", "{{").replace("}", "}}"))
    message.params = {"items": list(items)}
    return message


def missing(entity: str, key: Any) -> Message:
    """Return "<entity> <key> does not exist" as a message, e.g. missing("therapist", 12) -> not_found.therapist."""
    english = f"{entity.replace('_', ' ').capitalize()} {{key}} does not exist"
    return Message(f"not_found.{entity}", english, key=str(key))  # an id is a name, not a number: no "1.234"


def status(kind: str, value: Any) -> Message:
    """Return a state as a translatable word, e.g. status("search", SearchStatus.PAUSED) -> search.status.paused."""
    value = getattr(value, "value", value)
    return term(f"{kind}.status.{value}", str(value))
