"""An independent check of the contact limits on what the simulation sent (DESIGN 3.2).

It does not use the matching filters or ``core.matching.limits``: it replays the simulation's own log of
sends, answers and closings and counts every send that broke a limit:

rule                 broken when, on the day of sending
open_inquiry         the practice still had an open inquiry
cooldown             the practice answered fewer than cooldown_days before
monthly_cap          the practice had monthly_cap or more inquiries sent in the 30 days before
parallel_per_search  a search of the inquiry already had max_parallel open items

Example:
    log = ContactLog(cooldown_days=28, monthly_cap=2, max_parallel=3)
    log.sent(7, inquiry_id=1, day=0, search_ids=[3]); log.sent(7, inquiry_id=2, day=1, search_ids=[4])
    log.violations  # [Violation(practice_id=7, inquiry_id=2, day=1, rule="open_inquiry")]
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    practice_id: int
    inquiry_id: int
    day: int
    rule: str


@dataclass
class ContactLog:
    cooldown_days: int
    monthly_cap: int
    max_parallel: int
    violations: list[Violation] = field(default_factory=list)
    _open: dict[int, set[int]] = field(default_factory=dict)  # practice -> open inquiry ids
    _answered: dict[int, int] = field(default_factory=dict)  # practice -> day of its last answer
    _sends: dict[int, list[int]] = field(default_factory=dict)  # practice -> days it was sent an inquiry
    _search_open: dict[int, int] = field(default_factory=dict)  # search -> open items

    def sent(self, practice_id: int, inquiry_id: int, day: int, search_ids: list[int]) -> None:
        """Record a send, and every limit it breaks."""
        broken = []
        if self._open.get(practice_id):
            broken.append("open_inquiry")
        last_answer = self._answered.get(practice_id)
        if last_answer is not None and day < last_answer + self.cooldown_days:
            broken.append("cooldown")
        if sum(1 for sent in self._sends.get(practice_id, []) if day - 30 <= sent) >= self.monthly_cap:
            broken.append("monthly_cap")
        if any(self._search_open.get(search_id, 0) >= self.max_parallel for search_id in search_ids):
            broken.append("parallel_per_search")
        self.violations.extend(Violation(practice_id, inquiry_id, day, rule) for rule in broken)
        self._open.setdefault(practice_id, set()).add(inquiry_id)
        self._sends.setdefault(practice_id, []).append(day)
        for search_id in search_ids:
            self._search_open[search_id] = self._search_open.get(search_id, 0) + 1

    def answered(self, practice_id: int, day: int) -> None:
        self._answered[practice_id] = max(day, self._answered.get(practice_id, day))

    def inquiry_closed(self, practice_id: int, inquiry_id: int) -> None:
        self._open.get(practice_id, set()).discard(inquiry_id)

    def item_closed(self, search_id: int) -> None:
        self._search_open[search_id] = self._search_open.get(search_id, 0) - 1

    @property
    def practices_beyond_limits(self) -> int:
        """Distinct practices that were contacted beyond a limit at least once."""
        return len({violation.practice_id for violation in self.violations})
