"""Keep, give back and forget the unsaved input of a form, per login session and form. Nothing here commits.

A draft belongs to one login session (a reload and new tabs of the same browser share it) and one form key
(``patient_new``, ``patient_edit:42``, ``therapist_new``). Its values are JSON sealed with a key derived from
SECRET_KEY, because a patient form holds health data. A draft ends when the form is saved (``discard``), when
its login ends (``discard_login``), and a day after its last change at the latest (``purge``, run by the
retention job; ``get`` ignores older ones meanwhile). Values are never logged. Example:

    save(session, login_id=login, user_id=7, form_key="patient_new", values={"last_name": "Muster"},
         now=now, secret_key=key)
    get(session, login_id=login, user_id=7, form_key="patient_new", now=now, secret_key=key)
    # -> Draft(values={"last_name": "Muster"}, saved_at=now)
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.auth.models import LoginSession
from core.auth.sealing import seal, unseal
from core.drafts.models import FormDraft
from core.errors import AuthenticationError, ValidationError
from core.messages import Message

MAX_AGE = timedelta(days=1)  # unsaved input older than a working day is stale, and it is health data
PURPOSE = b"placement-workbench form draft v1"  # its own key: a TOTP seed key never opens a draft
FORM_KEY = re.compile(r"[a-z_]{1,60}(:[0-9]{1,12})?")
MAX_CHARACTERS = 200_000  # a form's input as JSON; more is no typing but a mistake


@dataclass(frozen=True)
class Draft:
    values: dict[str, Any]
    saved_at: datetime


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"a form draft cannot hold a {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if obj.keys() == {"$date"}:
        return date.fromisoformat(obj["$date"])
    if obj.keys() == {"$datetime"}:
        return datetime.fromisoformat(obj["$datetime"])
    return obj


def _check_key(form_key: str) -> None:
    if not FORM_KEY.fullmatch(form_key or ""):
        raise ValidationError(
            Message(
                "drafts.bad_form_key",
                "Form key '{form_key}' is not valid; use lower-case letters and _, optionally ':<id>', "
                "e.g. 'patient_edit:42'",
                form_key=form_key,
            ),
            field="form_key",
        )


def save(session: Session, *, login_id: str, user_id: int, form_key: str, values: dict[str, Any], now: datetime,
         secret_key: str) -> None:  # fmt: skip
    """Keep ``values`` as the form's draft of this login (one row per login and form; a later save replaces it)."""
    _check_key(form_key)
    text = json.dumps(values, default=_encode, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_CHARACTERS:
        raise ValidationError(
            Message(
                "drafts.too_long",
                "The input of form '{form_key}' has {length} characters; at most {max_length} are kept",
                form_key=form_key,
                length=len(text),
                max_length=MAX_CHARACTERS,
            ),
            field="form_key",
        )
    sealed = seal(text, secret_key=secret_key, purpose=PURPOSE)
    statement = insert(FormDraft).values(
        login_session_id=login_id, user_id=user_id, form_key=form_key, sealed_values=sealed, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            constraint="uq_form_draft_login_session_id_form_key",
            set_={"sealed_values": sealed, "updated_at": now, "user_id": user_id},
        )
    )


def get(session: Session, *, login_id: str, user_id: int, form_key: str, now: datetime,
        secret_key: str) -> Draft | None:  # fmt: skip
    """Return the form's draft of this login and user, unless there is none, it is stale or cannot be read."""
    _check_key(form_key)
    row = session.scalar(
        select(FormDraft)
        .join(LoginSession, LoginSession.id == FormDraft.login_session_id)
        .where(
            FormDraft.login_session_id == login_id,
            FormDraft.user_id == user_id,
            FormDraft.form_key == form_key,
            LoginSession.user_id == user_id,
            LoginSession.ended_at.is_(None),
        )
    )
    if row is None:
        return None
    if now - row.updated_at > MAX_AGE:
        session.delete(row)
        return None
    try:
        values = json.loads(unseal(row.sealed_values, secret_key=secret_key, purpose=PURPOSE), object_hook=_decode)
    except AuthenticationError:  # SECRET_KEY changed: the input is lost, the form starts empty
        session.delete(row)
        return None
    return Draft(values=values, saved_at=row.updated_at)


def discard(session: Session, *, login_id: str, form_key: str) -> bool:
    """Forget the form's draft of this login (it was saved, or dropped); return True if there was one."""
    _check_key(form_key)
    result = session.execute(
        delete(FormDraft).where(FormDraft.login_session_id == login_id, FormDraft.form_key == form_key)
    )
    return bool(result.rowcount)


def discard_login(session: Session, *, login_ids: list[str]) -> int:
    """Forget every draft of these logins (they ended); return how many."""
    if not login_ids:
        return 0
    result = session.execute(
        delete(FormDraft).where(FormDraft.login_session_id.in_(login_ids)).execution_options(synchronize_session=False)
    )
    return result.rowcount


def purge(session: Session, *, now: datetime) -> int:
    """Delete drafts older than MAX_AGE and those of ended logins; return how many."""
    ended = select(LoginSession.id).where(LoginSession.ended_at.is_not(None))
    result = session.execute(
        delete(FormDraft)
        .where(or_(FormDraft.updated_at < now - MAX_AGE, FormDraft.login_session_id.in_(ended)))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
