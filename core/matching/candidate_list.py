"""Which nearby therapists pass one search's filters, and why the others fail (for the patient's map).

It uses the pipeline's own snapshot and vectorised filters, so the map and a matching run never disagree.
Example: ``failed_rules(session, search_id=7, therapists={12: 3.4, 15: 9.0}, now=now, settings=settings)``
-> ``{12: [], 15: ["procedure", "language"]}``
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from core.matching.filters import evaluate
from core.matching.pipeline import PipelineSettings, service_today
from core.matching.snapshot import load_snapshot


def failed_rules(
    session: Session, *, search_id: int, therapists: dict[int, float], now: datetime, settings: PipelineSettings
) -> dict[int, list[str]]:
    """Return, per therapist id, the codes of the rules the pair fails (an empty list: proposable)."""
    if not therapists:
        return {}
    snapshot = load_snapshot(  # the service's day, as the matching run and the explainer count it
        session, now=now, today=service_today(now, settings), search_ids=[search_id], therapist_ids=list(therapists)
    )
    ids = snapshot.therapists["therapist_id"].to_numpy(dtype=np.int64)
    if len(snapshot.searches) == 0 or len(ids) == 0:
        return {}
    km = np.array([therapists[int(i)] for i in ids], dtype=float)
    result = evaluate(snapshot, np.zeros(len(ids), dtype=np.int64), np.arange(len(ids)), km, settings=settings)
    return {int(therapist_id): result.reasons(row) for row, therapist_id in enumerate(ids)}
