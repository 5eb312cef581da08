"""One exception tree for the workbench; every message names the value and what to do.

WorkbenchError
├── ConfigError            a setting from the environment / .env is invalid
├── ValidationError        user input (form, file, CLI) is invalid; nothing was written
├── NotFound               a record asked for by id or reference does not exist
├── IllegalTransition      a state change that the state machine does not allow
├── ConcurrentEdit         optimistic lock: someone else saved the record meanwhile
├── AuthenticationError    wrong login, locked account, expired session
├── JobError               a scheduled job is unknown or could not run
└── ModelRefused           a stored match model's artifact fails its checksum or library-version check
"""

from __future__ import annotations

from typing import Any


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose.

    Raised with a ``core.messages.Message``, the error carries its ``code`` and ``params`` so that the UI can
    say it in the user's language; ``str(error)`` stays the English text for logs. A plain ``str`` gives
    ``code`` None (the UI then shows the text as it is).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        message = args[0] if args else ""
        self.code: str | None = getattr(message, "code", None)
        self.params: dict[str, Any] = getattr(message, "params", {})
        self.message = message


class ConfigError(WorkbenchError):
    """A setting is invalid, e.g. ``APP_PORT='abc' is not a port number; use e.g. APP_PORT=8501``."""


class ValidationError(WorkbenchError):
    """Input is invalid; ``field`` names the offending input, ``errors`` maps every bad field to its message."""

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None) -> None:
        # ``message`` and the values of ``errors`` may be core.messages.Message (a str with code and params)
        super().__init__(message)
        self.field = field
        self.errors = errors if errors is not None else ({field: message} if field else {})

    @classmethod
    def collect(cls, errors: dict[str, str]) -> ValidationError:
        """One error for a whole form: the message lists every field, ``errors`` keeps them apart."""
        message = "; ".join(f"{field}: {text}" for field, text in errors.items())
        return cls(message, field=next(iter(errors)), errors=dict(errors))


class NotFound(WorkbenchError):
    """A record does not exist."""


class IllegalTransition(WorkbenchError):
    """A state machine refused a transition."""


class ConcurrentEdit(WorkbenchError):
    """The record changed since it was loaded; ``fields`` lists what changed meanwhile."""

    fields: list[str] = []  # set per instance by core.db.locking


class AuthenticationError(WorkbenchError):
    """Login refused. ``code`` is "invalid" (generic) or "locked" (``minutes`` says for how long)."""

    def __init__(self, message: str, *, code: str = "invalid", minutes: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.minutes = minutes


class JobError(WorkbenchError):
    """A job is unknown or failed to start."""


class ModelRefused(WorkbenchError):
    """A model artifact was not loaded: its checksum or the library versions differ from its registry row."""
