"""Settings from the environment and an optional ``.env`` file: one Settings object, no import side effects.

Example:
    >>> settings = get_settings()
    >>> settings.app_port
    8501

A wrong value raises ``ConfigError`` with one line naming the variable and a valid example.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 32  # 32 characters of token_urlsafe are about 190 bits: not guessable offline

# A valid example per variable, used in error messages.
EXAMPLES: dict[str, str] = {
    "DATABASE_URL": "postgresql://placement:secret@localhost:5432/placement",
    "DATABASE_DIRECT_URL": "postgresql://placement:secret@db.example.org:5432/placement",
    "DATA_DIR": "./data",
    "APP_HOST": "127.0.0.1",
    "APP_PORT": "8501",
    "LANGUAGE": "de",
    "TIMEZONE": "Europe/Berlin",
    "SECRET_KEY": "a random string of at least 32 characters",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": "1025",
    "SMTP_SECURITY": "starttls",
    "SMTP_USER": "mailer",
    "SMTP_PASSWORD": "(from your mail provider)",
    "MAIL_FROM": "vermittlung@example.org",
    "MAIL_CATCHER_PORT": "1025",
    "IMAP_HOST": "imap.example.org",
    "IMAP_PORT": "993",
    "IMAP_USER": "vermittlung@example.org",
    "IMAP_PASSWORD": "(from your mail provider)",
    "IMAP_SSL": "1",
    "DEMO_DATA": "1",
    "DEMO_THERAPISTS": "3000",
    "DEMO_PATIENTS": "300",
    "SESSION_TIMEOUT_MINUTES": "30",
    "LOGIN_MAX_FAILURES": "5",
    "LOGIN_LOCKOUT_MINUTES": "15",
    "JOB_SCHEDULES": '{"heartbeat": "*/5 * * * *"}',
    "MATCH_INQUIRY_MAX_SIZE": "6",
    "MATCH_PARALLEL_PER_SEARCH": "3",
    "MATCH_COOLDOWN_WEEKS": "4",
    "MATCH_MONTHLY_CAP": "2",
    "MATCH_EXPLORATION_SHARE": "0.05",
    "MATCH_MIN_OVERLAP_HOURS": "2",
    "MATCH_CAPACITY_DECLINE_DAYS": "90",
    "MATCH_MODEL": "learned",
    "PUBLIC_BASE_URL": "https://vermittlung.example.org",
    "ANSWER_LINK_DAYS": "42",
    "SEND_WINDOW": "Mon-Fri 08:00-18:00",
    "SEND_MAX_ATTEMPTS": "6",
    "FOLLOWUP_REMINDER_DAYS": "7",
    "FOLLOWUP_CALL_DAYS": "7",
    "FOLLOWUP_CALL_ATTEMPTS": "3",
    "RETENTION_MONTHS": "24",
    "KAFKA_BOOTSTRAP": "kafka:9092",
    "KAFKA_TOPIC_PREFIX": "workbench",
    "BACKUP_KEEP": "7",
    "PG_BIN_DIR": "/usr/lib/postgresql/18/bin",
    "LOG_LEVEL": "INFO",
    "NOMINATIM_URL": "https://nominatim.openstreetmap.org",
    "NOMINATIM_USER_AGENT": "placement-workbench (vermittlung@example.org)",
    "GEOCODE_CACHE_DAYS": "90",
    "ROUTING_URL": "http://localhost:5000",
    "MAP_STYLE_URL": "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json",
    "DIRECTORY_LIVE_ENABLED": "0",
}


class Settings(BaseSettings):
    """Every setting the workbench reads. Environment variables win over ``.env``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = embedded server")
    database_direct_url: str | None = Field(
        default=None,
        description="PostgreSQL URL past any connection pooler, for backups and restores (pg_dump sets "
        "session state that a transaction-mode PgBouncer would hand to other clients); unset = DATABASE_URL",
    )
    data_dir: Path = Field(
        default=REPO_ROOT / "data",
        description="Generated state: postgres, mail, warehouse",
    )
    app_host: str = Field(default="127.0.0.1", description="Interface the dashboard listens on")
    app_port: int = Field(default=8501, description="Port of the dashboard")
    language: Literal["de", "en"] = Field(default="de", description="Default UI language")
    timezone: str = Field(default="Europe/Berlin", description="Local time zone of every date shown or used")
    secret_key: str | None = Field(default=None, description="Signs links; unset = generated in DATA_DIR")
    smtp_host: str = Field(default="127.0.0.1", description="Outgoing mail server")
    smtp_port: int | None = Field(default=None, description="Outgoing mail server port; unset = MAIL_CATCHER_PORT")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(default="none", description="SMTP transport security")
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server needs one")
    smtp_password: str | None = Field(default=None, description="SMTP password, if the server needs one")
    mail_from: str = Field(default="vermittlung@example.org", description="Sender address of outgoing mail")
    mail_catcher_port: int = Field(default=1025, description="Port of the local mail catcher started by make run")
    imap_host: str | None = Field(default=None, description="Mailbox replies and bounces are fetched from; unset = off")
    imap_port: int | None = Field(default=None, description="IMAP port; unset = 993 with IMAP_SSL, else 143")
    imap_user: str | None = Field(default=None, description="IMAP login")
    imap_password: str | None = Field(default=None, description="IMAP password")
    imap_ssl: bool = Field(default=True, description="IMAP over TLS (port 993); 0 = plain IMAP, e.g. on localhost")
    demo_data: bool = Field(default=True, description="Load demo data on first start of make run")
    demo_therapists: int = Field(default=3000, description="Therapists in the demo data")
    demo_patients: int = Field(default=300, description="Patients in the demo data")
    session_timeout_minutes: int = Field(default=30, description="Idle minutes before a dashboard login expires")
    login_max_failures: int = Field(default=5, description="Failed logins before the account is locked")
    login_lockout_minutes: int = Field(default=15, description="How long a locked account stays locked")
    job_schedules: dict[str, str] = Field(default_factory=dict, description="Cron overrides per job (JSON)")
    match_inquiry_max_size: int = Field(default=6, description="Most patients bundled in one inquiry")
    match_parallel_per_search: int = Field(default=3, description="Most open inquiries per search at once")
    match_cooldown_weeks: int = Field(default=4, description="Weeks a practice is not contacted after an answer")
    match_monthly_cap: int = Field(default=2, description="Most inquiries per practice in 30 days")
    match_exploration_share: float = Field(default=0.05, description="Share of slots for random eligible pairs")
    match_min_overlap_hours: float = Field(default=2.0, description="Least weekly overlap with practice hours")
    match_capacity_decline_days: int = Field(default=90, description="Days a 'no capacity' answer blocks a pair")
    match_model: Literal["prior", "learned"] = Field(
        default="prior", description="Scores from: prior (documented) or learned (the version active on the model page)"
    )
    public_base_url: str | None = Field(
        default=None, description="Address therapists open answer links at; unset = http://localhost:APP_PORT"
    )
    answer_link_days: int = Field(default=42, description="Days an answer link in an inquiry stays valid")
    send_window: str = Field(default="Mon-Fri 08:00-18:00", description="When mail may go out (Europe/Berlin)")
    send_max_attempts: int = Field(default=6, description="Attempts before a failing mail is marked dead")
    followup_reminder_days: int = Field(default=7, description="Days without answer before the reminder")
    followup_call_days: int = Field(default=7, description="Days after the reminder before a phone call")
    followup_call_attempts: int = Field(default=3, description="Call attempts before an inquiry expires")
    retention_months: int = Field(
        default=24, description="Months after a search ended before the retention job anonymises the case"
    )
    backup_keep: int = Field(default=7, description="Nightly backups kept in DATA_DIR/backups (older ones are deleted)")
    pg_bin_dir: Path | None = Field(
        default=None, description="Folder with pg_dump/pg_restore/psql; unset = the embedded wheel's, else PATH"
    )
    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers (host:port,...) for the event relay; unset = relay off"
    )
    kafka_topic_prefix: str = Field(
        default="workbench", description="Prefix of the relay's topics (prefix.patient, ...)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level")
    nominatim_url: str | None = Field(
        default=None, description="Nominatim server for address geocoding; unset = offline (PLZ centroids only)"
    )
    nominatim_user_agent: str = Field(
        default="placement-workbench", description="User agent sent to Nominatim (name your service and a contact)"
    )
    geocode_cache_days: int = Field(default=90, description="Days a geocoding answer is reused before asking again")
    routing_url: str | None = Field(
        default=None, description="OSRM-compatible routing server for travel times; unset = estimated from distance"
    )
    map_style_url: str | None = Field(
        default=None, description="Online basemap style for the maps; unset = offline Germany outline only"
    )
    directory_live_enabled: bool = Field(
        default=False,
        description="Let the live 116117 search client ask the service (3 s apart, stops when blocked); "
        "0 = import saved search answers only",
    )

    @field_validator("database_url", "database_direct_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"postgresql", "postgres", "postgresql+psycopg2"}:
            raise ValueError(f"'{_mask(value)}' is not a PostgreSQL URL (scheme must be postgresql://)")
        if not parts.path.strip("/"):
            raise ValueError(f"'{_mask(value)}' names no database (add /placement at the end)")
        try:
            parts.port  # noqa: B018 - raises ValueError on a non-numeric port
        except ValueError:
            raise ValueError(f"'{_mask(value)}' has a port that is not a number") from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if len(value) < MIN_SECRET_KEY_LENGTH:  # the value itself is never repeated: it is a secret
            raise ValueError(
                f"has {len(value)} characters; use at least {MIN_SECRET_KEY_LENGTH} random ones, e.g. the output of "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))' (or leave it unset to generate one)"
            )
        return value

    @field_validator(
        "smtp_port", "public_base_url", "pg_bin_dir", "kafka_bootstrap", "imap_host", "imap_port", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @field_validator("app_port", "smtp_port", "mail_catcher_port", "imap_port")
    @classmethod
    def _check_port(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 65535:
            raise ValueError(f"{value} is not a port number between 1 and 65535")
        return value

    @field_validator(
        "answer_link_days",
        "send_max_attempts",
        "followup_reminder_days",
        "followup_call_days",
        "followup_call_attempts",
        "retention_months",
        "backup_keep",
    )
    @classmethod
    def _check_positive_count(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"{value} must be 1 or more")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("match_inquiry_max_size")
    @classmethod
    def _check_inquiry_size(cls, value: int) -> int:
        if not 1 <= value <= 20:
            raise ValueError(f"{value} must be between 1 and 20 patients per inquiry")
        return value

    @field_validator("match_parallel_per_search", "match_cooldown_weeks", "match_monthly_cap")
    @classmethod
    def _check_at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"{value} must be 1 or more")
        return value

    @field_validator("match_exploration_share")
    @classmethod
    def _check_share(cls, value: float) -> float:
        if not 0 <= value <= 0.5:
            raise ValueError(f"{value} must be a share between 0 and 0.5")
        return value

    @field_validator("match_min_overlap_hours", "match_capacity_decline_days")
    @classmethod
    def _check_not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"{value} must not be negative")
        return value

    @field_validator("demo_therapists", "demo_patients", "login_max_failures")
    @classmethod
    def _check_non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"{value} must not be negative")
        return value

    @field_validator("nominatim_url", "routing_url", "map_style_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("geocode_cache_days")
    @classmethod
    def _check_positive_days(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(f"{value} must be a positive number of days")
        return value

    @field_validator("session_timeout_minutes", "login_lockout_minutes")
    @classmethod
    def _check_positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(f"{value} must be a positive number of minutes")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA timezone name") from None
        return value

    @model_validator(mode="after")
    def _follow_the_local_stack(self) -> Settings:
        # Unset, these two follow the ports make run uses, so that changing MAIL_CATCHER_PORT or APP_PORT
        # alone cannot send mail to a port where nothing listens or links to a server that is not there.
        if self.smtp_port is None:
            self.smtp_port = self.mail_catcher_port
        if self.public_base_url is None:
            self.public_base_url = f"http://localhost:{self.app_port}"
        return self

    @property
    def sqlalchemy_url(self) -> str | None:
        """The database URL in the form SQLAlchemy wants (psycopg2 driver), or None for embedded."""
        if self.database_url is None:
            return None
        return to_sqlalchemy_url(self.database_url)

    def resolved_secret_key(self) -> str:
        """Return SECRET_KEY, or one generated once and kept in DATA_DIR (never in the repo).

        Processes starting together agree on one key: each writes a candidate to its own file and links it
        into place, which fails if the key exists (like O_EXCL), so the first one wins and the others read it.
        The key file is complete from the moment it appears.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            candidate = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(8)}")
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as file:
                    file.write(secrets.token_urlsafe(48))
                os.link(candidate, path)
            except FileExistsError:
                pass  # another process was first: use its key
            finally:
                candidate.unlink(missing_ok=True)
        return path.read_text().strip()


def to_sqlalchemy_url(url: str) -> str:
    """Return ``url`` with the psycopg2 driver named, e.g. postgresql+psycopg2://..."""
    scheme, rest = url.split("://", 1)
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg2://{rest}"
    return url


def _mask(url: str) -> str:
    """Hide the password in a URL before it appears in a message."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def load_settings(**overrides: object) -> Settings:
    """Read settings now; raise ConfigError naming the first bad variable.

    Example: ``load_settings(app_port=8502)``
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = field.upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] in {
            "int_parsing",
            "bool_parsing",
            "literal_error",
            "json_invalid",
            "dict_type",
        }:
            given = error.get("input")
            message = f"{given!r} is not valid ({message})"
        example = EXAMPLES.get(variable, "")
        hint = f"; use e.g. {variable}={example}" if example else ""
        raise ConfigError(f"Setting {variable}: {message}{hint}") from None
    except SettingsError as exc:
        match = re.search(r'field "(\w+)"', str(exc))
        variable = match.group(1).upper() if match else "?"
        example = EXAMPLES.get(variable, "")
        raise ConfigError(f"Setting {variable}: not valid JSON; use e.g. {variable}={example}") from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once; call ``get_settings.cache_clear()`` to re-read)."""
    return load_settings()


def describe_settings() -> list[dict[str, str]]:
    """Return one row per setting (variable, default, description) for docs and the status page."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        if name == "data_dir":
            default = "./data"
        rows.append(
            {
                "variable": name.upper(),
                "default": ""
                if default is None
                else json.dumps(default)
                if isinstance(default, dict)
                else str(default),
                "description": field.description or "",
            }
        )
    return rows
