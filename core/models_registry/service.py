"""Train, register, load, activate and roll back match-model versions (issue 12).

    train           job ``train_model``: time split, fit, evaluate against the prior, write artifact + row
    load            the artifact, only if its sha256 matches the row and the library versions match
    active_model    the model the pipeline scores with: MATCH_MODEL=prior -> the prior; learned -> the
                    active version, or the prior with a logged warning when none is active or it is refused
    activate        only when the version beats the active model on its held-out rows, or with a reason
    rollback        back to the model that was active before (the prior if none)
    list_versions   every version, newest first

Artifacts live under DATA_DIR/models/ (directory 0700, files 0600: they are derived from health data).
Every change is audited. Functions take the session first and do not commit.

Example:
    with session_scope() as session:
        counts = train(session, now=datetime.now(UTC), settings=get_settings())
        activate(session, version=counts["version"], actor="admin@example.org", now=datetime.now(UTC))
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import sklearn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.config import Settings, get_settings
from core.errors import ModelRefused, NotFound, ValidationError
from core.matching.learned import MODEL_KIND, LearnedModel, evaluate, fit_learned_model
from core.matching.score import FEATURE_COLUMNS, MatchModel, PriorModel
from core.messages import Message
from core.models_registry.models import MatchModelVersion
from core.models_registry.training import off_policy_offers, time_split, training_frame

_log = logging.getLogger(__name__)

MIN_TRAIN_ROWS = 500  # answered items; fewer give a model noisier than the prior
MIN_TRAIN_OFFERS = 20  # offers among them; at ~6 % offers that is ~330 answered patients
MIN_TEST_ROWS = 100  # held-out rows needed to compare with the prior at all
ARTIFACT_DIR = "models"


def library_versions() -> dict[str, str]:
    """Return the versions an artifact depends on; a pickle from other versions may load wrong or not at all."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_artifact(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only, atomically (a reader never sees half a file)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def _model_metrics(model: Any, test: pd.DataFrame) -> dict[str, Any]:
    return evaluate(model, test, test["label"].to_numpy())


def train(
    session: Session,
    *,
    now: datetime,
    settings: Settings | None = None,
    dry_run: bool = False,
    since: date | None = None,
    seed: int = 0,
    actor: str = "job:train_model",
) -> dict[str, Any]:
    """Job ``train_model``: fit on the older answered items, evaluate on the newest, register the version.

    With too little data it says so (``status`` "too_little_data", ``reason``) and keeps the prior.
    ``dry_run`` trains and evaluates but writes neither artifact nor row.
    """
    settings = settings or get_settings()
    frame = training_frame(session, since=since, until=now)
    train_rows, test_rows = time_split(frame)
    counts: dict[str, Any] = {
        "dry_run": dry_run,
        "since": since.isoformat() if since else None,
        "rows": len(frame),
        "train_rows": len(train_rows),
        "test_rows": len(test_rows),
        "offers": int(frame["label"].sum()) if len(frame) else 0,
    }
    offers = int(train_rows["label"].sum()) if len(train_rows) else 0
    if len(train_rows) < MIN_TRAIN_ROWS or offers < MIN_TRAIN_OFFERS or len(test_rows) < MIN_TEST_ROWS:
        counts["status"] = "too_little_data"
        counts["reason"] = (
            f"{len(train_rows)} training rows with {offers} offers and {len(test_rows)} held-out rows; need at "
            f"least {MIN_TRAIN_ROWS} rows with {MIN_TRAIN_OFFERS} offers and {MIN_TEST_ROWS} held-out rows. "
            "The active model (the prior on a fresh install) stays."
        )
        return counts
    version = (session.scalar(select(func.max(MatchModelVersion.version))) or 0) + 1
    model = fit_learned_model(train_rows, train_rows["label"].to_numpy(), seed=seed, name=f"learned-v{version}")
    model.version = version
    prior = PriorModel()
    learned_scores = model.predict_proba(test_rows)
    metrics = {
        "learned": _model_metrics(model, test_rows),
        "prior": _model_metrics(prior, test_rows),
        "off_policy": off_policy_offers(
            test_rows,
            {"learned": learned_scores, "prior": prior.predict_proba(test_rows)},
            share=settings.match_exploration_share,
            seed=seed,
        ),
        "feature_effects": model.feature_effects(test_rows).to_dict(orient="records"),
        "fit": model.details,
    }
    data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    relative = f"{ARTIFACT_DIR}/learned-v{version}-{now:%Y%m%dT%H%M%S}.pkl"
    counts.update(
        status="trained",
        version=version,
        model=model.name,
        artifact=relative,
        artifact_sha256=_sha256(data),
        log_loss=metrics["learned"]["log_loss"],
        prior_log_loss=metrics["prior"]["log_loss"],
        roc_auc=metrics["learned"]["roc_auc"],
        prior_roc_auc=metrics["prior"]["roc_auc"],
        fit_seconds=model.details["fit_seconds"],
    )
    if dry_run:
        return counts
    _write_artifact(settings.data_dir / relative, data)
    row = MatchModelVersion(
        version=version,
        kind=MODEL_KIND,
        trained_at=now,
        window_start=train_rows["proposed_at"].min().date(),
        window_end=frame["proposed_at"].max().date(),
        test_start=test_rows["proposed_at"].min().date(),
        train_rows=len(train_rows),
        test_rows=len(test_rows),
        features=list(FEATURE_COLUMNS),
        library_versions=library_versions(),
        metrics=_plain(metrics),
        artifact_path=relative,
        artifact_sha256=counts["artifact_sha256"],
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="match_model.trained", entity_type="match_model", entity_id=row.id,
                 details={k: counts[k] for k in ("version", "train_rows", "test_rows", "artifact_sha256")})  # fmt: skip
    return counts


def _plain(value: Any) -> Any:
    """Return ``value`` with numpy scalars as Python numbers and NaN as None (JSONB has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def get(session: Session, *, version: int) -> MatchModelVersion:
    """Return the registry row of ``version`` or raise NotFound naming the versions there are."""
    row = session.scalar(select(MatchModelVersion).where(MatchModelVersion.version == version))
    if row is None:
        known = ", ".join(str(v) for v in session.scalars(select(MatchModelVersion.version))) or "none yet"
        raise NotFound(
            Message(
                "model.version_unknown",
                "Match model version {version} does not exist; versions: {known}",
                version=str(version),
                known=known,
            )
        )
    return row


def list_versions(session: Session) -> list[MatchModelVersion]:
    """Return every registered version, newest first."""
    return list(session.scalars(select(MatchModelVersion).order_by(MatchModelVersion.version.desc())))


def get_active(session: Session) -> MatchModelVersion | None:
    """Return the active version's row, or None while the prior scores."""
    return session.scalar(select(MatchModelVersion).where(MatchModelVersion.is_active))


def load(row: MatchModelVersion, *, settings: Settings | None = None) -> LearnedModel:
    """Return the model of ``row``; raise ModelRefused if the artifact's checksum or the library versions differ.

    The checksum is checked before unpickling: a pickle runs code, so a changed file is never opened.
    """
    settings = settings or get_settings()
    path = settings.data_dir / row.artifact_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelRefused(
            Message(
                "model.unreadable",
                "Match model {name}: artifact {path} cannot be read ({detail}); retrain or roll back",
                name=row.name,
                path=str(path),
                detail=str(exc),
            )
        ) from None
    actual = _sha256(data)
    if actual != row.artifact_sha256:
        raise ModelRefused(
            Message(
                "model.checksum",
                "Match model {name}: artifact {path} has checksum {actual}…, the registry says {expected}…; "
                "the file was changed. Retrain (python -m jobs.train_model) or roll back.",
                name=row.name,
                path=str(path),
                actual=actual[:12],
                expected=row.artifact_sha256[:12],
            )
        )
    current = library_versions()
    differ = {k: (v, current.get(k)) for k, v in row.library_versions.items() if current.get(k) != v}
    if differ:
        listed = ", ".join(f"{k} {old} (now {new})" for k, (old, new) in differ.items())
        raise ModelRefused(
            Message(
                "model.libraries",
                "Match model {name} was trained with {listed}; retrain it with the installed libraries "
                "(python -m jobs.train_model)",
                name=row.name,
                listed=listed,
            )
        )
    model = pickle.loads(data)  # noqa: S301 - checksum verified against the registry row above
    if not isinstance(model, LearnedModel):
        raise ModelRefused(
            Message(
                "model.not_a_model",
                "Match model {name}: artifact {path} holds a {kind}, not a model",
                name=row.name,
                path=str(path),
                kind=type(model).__name__,
            )
        )
    return model


def active_model(session: Session, *, settings: Settings | None = None) -> MatchModel:
    """Return the model the pipeline scores with (see the module docstring); never raises for a bad artifact."""
    settings = settings or get_settings()
    if getattr(settings, "match_model", "prior") != "learned":
        return PriorModel()
    row = get_active(session)
    if row is None:
        _log.warning("MATCH_MODEL=learned but no model version is active; scoring with the prior")
        return PriorModel()
    try:
        return load(row, settings=settings)
    except ModelRefused as exc:
        _log.warning("%s Scoring with the prior instead.", exc)
        return PriorModel()


def held_out_comparison(
    session: Session, *, row: MatchModelVersion, settings: Settings | None = None
) -> dict[str, Any]:
    """Evaluate ``row``'s model and the active model (or the prior) on ``row``'s held-out rows, as of now."""
    settings = settings or get_settings()
    test = training_frame(session, since=row.test_start, until=row.trained_at)
    active_row = get_active(session)
    candidate = load(row, settings=settings)
    current: MatchModel = PriorModel()
    if active_row is not None:
        try:
            current = load(active_row, settings=settings)
        except ModelRefused as exc:  # what scores now is the prior (active_model falls back), so compare with it
            _log.warning("%s Comparing with the prior instead.", exc)
    labels = test["label"].to_numpy()
    return {
        "rows": len(test),
        "candidate": evaluate(candidate, test, labels) if len(test) else None,
        "active": evaluate(current, test, labels) if len(test) else None,
        "active_name": current.name,
    }


def activate(
    session: Session,
    *,
    version: int,
    actor: str,
    now: datetime,
    reason: str | None = None,
    settings: Settings | None = None,
    actor_id: int | None = None,
) -> MatchModelVersion:
    """Make ``version`` the scoring model; refuse one that does not beat the active model unless ``reason`` says why.

    "Beats" means a lower log loss on the version's own held-out rows (the newest answers at its training).
    """
    row = get(session, version=version)
    active = get_active(session)
    if active is not None and active.id == row.id:
        raise ValidationError(
            Message("model.already_active", "Match model {name} is already active", name=row.name), field="version"
        )
    load(row, settings=settings)  # a refused artifact is never activated
    comparison = held_out_comparison(session, row=row, settings=settings)
    reason = (reason or "").strip() or None
    better = (
        comparison["candidate"] is not None and comparison["candidate"]["log_loss"] < comparison["active"]["log_loss"]
    )
    if not better and reason is None:
        if comparison["candidate"] is None:
            message = Message(
                "model.no_held_out",
                "Match model {name} does not beat the active model: there are no held-out rows to "
                "compare on. Give a reason to activate it anyway.",
                name=row.name,
            )
        else:
            message = Message(
                "model.not_better",
                "Match model {name} does not beat the active model: its log loss {loss:.4f} is not below "
                "{active}'s {active_loss:.4f} on {rows} held-out rows. Give a reason to activate it anyway.",
                name=row.name,
                loss=comparison["candidate"]["log_loss"],
                active=comparison["active_name"],
                active_loss=comparison["active"]["log_loss"],
                rows=comparison["rows"],
            )
        raise ValidationError(
            message,
            field="reason",
        )
    if active is not None:
        active.is_active = False
        session.flush()  # the partial unique index allows one active row at a time
    row.is_active = True
    row.previous_active_id = active.id if active is not None else None
    row.activated_at = now
    row.activated_by = actor
    row.activation_reason = reason
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_id=actor_id,
        action="match_model.activated",
        entity_type="match_model",
        entity_id=row.id,
        reason=reason,
        details={
            "version": row.version,
            "replaced": active.name if active is not None else "prior-v1",
            "candidate_log_loss": comparison["candidate"]["log_loss"] if comparison["candidate"] else None,
            "active_log_loss": comparison["active"]["log_loss"] if comparison["active"] else None,
            "beats_active": better,
        },
    )
    return row


def rollback(session: Session, *, actor: str, now: datetime, actor_id: int | None = None) -> str:
    """Return to the model that was active before the current one (the prior if none); return its name."""
    active = get_active(session)
    if active is None:
        raise ValidationError(
            Message("model.nothing_to_roll_back", "The prior is active; there is nothing to roll back"), field="version"
        )
    previous = session.get(MatchModelVersion, active.previous_active_id) if active.previous_active_id else None
    active.is_active = False
    session.flush()
    if previous is not None:
        previous.is_active = True
        previous.activated_at = now
        previous.activated_by = actor
        previous.activation_reason = f"rollback from {active.name}"
        previous.previous_active_id = None
    session.flush()
    name = previous.name if previous is not None else PriorModel.name
    audit.record(session, actor=actor, actor_id=actor_id, action="match_model.rolled_back",
                 entity_type="match_model", entity_id=active.id,
                 details={"from": active.name, "to": name})  # fmt: skip
    return name


def job(session: Session, *, now: datetime, dry_run: bool) -> dict[str, Any]:
    """The registered weekly job: train on everything answered so far."""
    return train(session, now=now, dry_run=dry_run)
