"""What a matching run proposes: inquiries (one therapist, 1..N searches) with each item's score and reasons.

The pipeline (core.matching.pipeline) produces these; the service (core.matching.service) stores them as
inquiries in state ``proposed``. Both sides speak only these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Factor:
    """One contribution to a score, in words: code for translation, sentence for logs, signed weight."""

    code: str  # e.g. "distance", "accepting_recent", "waiting_time"
    sentence: str  # English, e.g. "3.2 km away (close)"; a core.messages.Message the UI translates
    weight: float  # contribution on the log-odds scale; positive helps

    def as_dict(self) -> dict[str, Any]:
        """Return the stored form; a translatable sentence keeps its message code and (JSON) parameters."""
        stored = {"code": self.code, "sentence": str(self.sentence), "weight": round(self.weight, 4)}
        if hasattr(self.sentence, "params"):
            stored |= {"message": self.sentence.code, "params": self.sentence.params}
        return stored


@dataclass(frozen=True)
class ProposedItem:
    search_id: int
    score: float  # probability that the practice offers this patient a place
    factors: tuple[Factor, ...]
    distance_km: float
    is_exploration: bool = False
    selection_probability: float | None = None  # for exploration slots: the chance this pair was drawn
    features: dict[str, float | None] | None = None  # the score's inputs (score.FEATURE_COLUMNS), None = unknown


@dataclass(frozen=True)
class ProposedInquiry:
    therapist_id: int
    practice_id: int | None
    items: tuple[ProposedItem, ...]


@dataclass(frozen=True)
class MatchingResult:
    inquiries: tuple[ProposedInquiry, ...]
    stats: dict[str, Any] = field(default_factory=dict)  # counts, objective, timings for the job summary
