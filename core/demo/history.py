"""Six months of placement work before today, simulated event by event with the response model.

Every working day at 07:00 a matching round fills each active search up to 3 open inquiry items,
nearest likely therapists first, under the contact limits; staff approve or discard the proposals; the
follow-up ladder and the response model decide when and how practices answer. The first acceptance
wins: the search succeeds and its other open items are withdrawn; a later acceptance for the same
patient is recorded as a conflict. See ``core.demo.response`` for the probabilities.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from core.demo import response
from core.demo.candidates import Candidate, TherapistIndex, radius_km
from core.demo.draws import moment_between
from core.demo.journal import Journal
from core.demo.ladder import plan_follow_up
from core.demo.markers import DEMO_ACTOR
from core.demo.patients import PatientDraft
from core.demo.refs import Ref
from core.demo.state import InquiryState, ItemState, PlacementState, PracticeState, SearchState
from core.demo.vocabulary import (
    ANSWER_MESSAGES,
    CANCEL_REASONS,
    DISCARD_REASONS,
    OVERRIDE_REASONS,
    PAUSE_REASONS,
    RELAX_REASONS,
)

Row = dict[str, Any]

ROUND_TIME = time(7, 0)  # the matching job runs before staff start work
MAX_PARALLEL = 3  # Search.max_parallel_inquiries default
MAX_ITEMS = 6  # DESIGN 3: an inquiry bundles at most 6 searches
SCAN_LIMIT = 40  # candidates looked at per search and round; the rest wait for the next round
BUNDLE_WINDOW = 10  # a therapist already asked this round is preferred if among a search's 10 best
MONTH = timedelta(days=30)
EXPLORATION_SHARE = 0.05  # items chosen to learn about a therapist rather than for the best score
UNTIL_REVIEWED = timedelta(days=1)  # a proposal blocks its practice until staff have reviewed it


@dataclass(frozen=True)
class RoundLog:
    """What one matching round did, for its job_run row."""

    at: datetime
    searches: int
    inquiries: int
    items: int


class History:
    """Runs the simulation; its state becomes rows in ``core.demo.records``."""

    def __init__(
        self,
        *,
        rng: random.Random,
        today: date,
        now: datetime,
        practices: Sequence[Row],
        therapists: Sequence[Row],
        patients: Sequence[PatientDraft],
        journal: Journal,
    ) -> None:
        self.rng, self.today, self.now, self.journal = rng, today, now, journal
        self.therapists = {t["id"]: t for t in therapists}
        self.practices = {p["id"]: PracticeState(p, response.draw_responsiveness(rng)) for p in practices}
        self.patients = list(patients)
        index = TherapistIndex(therapists)
        searching = [patient for patient in patients if patient.searching]
        self.searches = [self._plan_search(index, key, patient) for key, patient in enumerate(searching, start=1)]
        self.inquiries: list[InquiryState] = []
        self.items: list[ItemState] = []
        self.placements: list[PlacementState] = []
        self.rounds: list[RoundLog] = []
        self.todays_proposals: list[InquiryState] = []
        self._queue: list[tuple[datetime, int, int, str, Any]] = []
        self._sequence = itertools.count()  # keeps events of the same moment in the order they were planned
        self._year_counters: dict[int, int] = {}

    def run(self) -> None:
        """Play every event up to ``now``."""
        first = min((s.started_at for s in self.searches), default=self.now)
        day = first.date()
        while day <= self.today:
            if day.weekday() < 5 or day == self.today:
                self._push(datetime.combine(day, ROUND_TIME, self.now.tzinfo), 2, "round", None)
            day += timedelta(days=1)
        for patient in self.patients:
            self.journal.audit(patient.registered_at, "patient.create", entity=Ref("patient", patient.row["id"]))
            self.journal.event(
                patient.registered_at, "patient.created", aggregate=Ref("patient", patient.row["id"]), payload={}
            )
        for search in self.searches:
            if search.cancel_at:
                self._push(search.cancel_at, 1, "cancel", search)
            if search.pause:
                self._push(search.pause[0], 1, "pause", search)
                self._push(search.pause[1], 1, "resume", search)
            if search.relax_at:
                self._push(search.relax_at, 1, "relax", search)
            self.journal.event(
                search.started_at,
                "search.started",
                aggregate=Ref("search", search.key),
                payload={"patient_id": Ref("patient", search.patient.row["id"])},
            )
        while self._queue and self._queue[0][0] <= self.now:
            at, _, _, kind, subject = heapq.heappop(self._queue)
            getattr(self, f"_on_{kind}")(at, subject)

    # events --------------------------------------------------------------------------------------------

    def _on_round(self, at: datetime, _: None) -> None:
        eligible = [s for s in self.searches if s.started_at < at and s.status == "active" and not s.paused]
        eligible.sort(key=lambda s: (s.started_at, s.key))
        created: dict[int, InquiryState] = {}
        items = 0
        for search in eligible:
            need = MAX_PARALLEL - len(search.open_items)
            if need <= 0:
                continue
            reach = search.radius_km + (response.RELAX_KM if search.relaxed else 0)
            window = [c for c in search.candidates if c.therapist not in search.asked and c.distance_km <= reach]
            window = window[:SCAN_LIMIT]
            # joining an inquiry that goes out anyway costs the practice no extra contact: prefer it among the best
            joining = {c.therapist for c in window[:BUNDLE_WINDOW] if c.therapist in created}
            ordered = [c for c in window if c.therapist in joining] + [c for c in window if c.therapist not in joining]
            for candidate in ordered:
                if need <= 0:
                    break
                inquiry = created.get(candidate.therapist)
                if inquiry is None:
                    admitted, override = self._admission(self.practices[candidate.practice], candidate, at)
                    if not admitted:
                        continue
                    inquiry = created[candidate.therapist] = self._propose(candidate, at, override)
                elif len(inquiry.items) >= MAX_ITEMS:
                    continue
                self._add_item(inquiry, search, candidate)
                items += 1
                need -= 1
        self.rounds.append(RoundLog(at, len(eligible), len(created), items))
        for inquiry in created.values():
            if at.date() == self.today:
                self.todays_proposals.append(inquiry)  # staff review them this morning; see core.demo.present
            else:
                self._review(inquiry, at)

    def _on_resolve(self, at: datetime, inquiry: InquiryState) -> None:
        plan = inquiry.plan
        assert plan is not None  # noqa: S101 - narrows the type for the checker; the demo generator guarantees it
        therapist_ref = Ref("therapist", inquiry.therapist["id"])
        if plan.answered_at is None:
            for item in inquiry.items:
                if item.outcome == "pending":
                    item.outcome = "no_answer"
                    self._close(item)
            self.journal.event(
                at, "inquiry.expired", aggregate=Ref("inquiry", inquiry.key), payload={"therapist_id": therapist_ref}
            )
            return
        source = response.draw_answer_source(self.rng, on_call=plan.answer_on_call is not None)
        accepts = 0
        for item in inquiry.items:
            accepting, km = inquiry.therapist["accepting_patients"], item.candidate.distance_km
            wants = response.wants_place(self.rng, accepting=accepting, distance_km=km)
            if item.outcome == "pending":
                outcome = response.patient_outcome(self.rng, wants=wants, accepts_so_far=accepts)
                if outcome == "accepted":
                    accepts += 1
                    self._accept(item, at)
                else:
                    item.outcome = outcome
                    self._close(item)
            elif item.outcome == "withdrawn" and wants and item.search.status == "successful":
                # first acceptance wins: this later one is a conflict for staff to resolve
                item.is_conflict = True
                item.proposed_first_session = self._first_session(at)
                resolved = at + timedelta(days=self.rng.randint(1, 3))
                item.conflict_resolved_at = resolved if resolved <= self.now else None
            else:
                continue
            item.answered_at, item.answer_source = at, source
            said = "accepted" if item.outcome == "accepted" or item.is_conflict else item.outcome
            item.answer_message = self.rng.choice(ANSWER_MESSAGES[said])
        inquiry.practice.cooldown_until = at + response.COOLDOWN
        self.journal.event(
            at,
            "inquiry.answered",
            aggregate=Ref("inquiry", inquiry.key),
            payload={"therapist_id": therapist_ref, "accepted": accepts},
        )

    def _on_cancel(self, at: datetime, search: SearchState) -> None:
        if search.status != "active":
            return
        search.status, search.ended_at, search.paused = "cancelled", at, False
        search.cancel_reason = self.rng.choice(CANCEL_REASONS)
        self._withdraw_open(search)
        self.journal.audit(at, "search.cancel", entity=Ref("search", search.key), reason=search.cancel_reason)
        self.journal.event(at, "search.cancelled", aggregate=Ref("search", search.key), payload={})

    def _on_pause(self, at: datetime, search: SearchState) -> None:
        if search.status == "active":
            search.paused = True
            self.journal.audit(
                at, "search.pause", entity=Ref("search", search.key), reason=self.rng.choice(PAUSE_REASONS)
            )

    def _on_resume(self, at: datetime, search: SearchState) -> None:
        if search.paused:
            search.paused = False
            self.journal.audit(at, "search.resume", entity=Ref("search", search.key), details={"automatic": True})

    def _on_relax(self, at: datetime, search: SearchState) -> None:
        if search.status != "active":
            return
        search.relaxed = True
        reason = self.rng.choice(RELAX_REASONS)
        value = search.radius_km + response.RELAX_KM
        search.relaxations.append(
            {"rule": "max_distance_km", "value": value, "by": DEMO_ACTOR, "reason": reason, "at": at.isoformat()}
        )
        self.journal.audit(
            at,
            "search.relax",
            entity=Ref("search", search.key),
            details={"rule": "max_distance_km", "value": value},
            reason=reason,
        )

    # steps ---------------------------------------------------------------------------------------------

    def _plan_search(self, index: TherapistIndex, key: int, patient: PatientDraft) -> SearchState:
        rng = self.rng
        started_at = patient.registered_at + timedelta(minutes=10)  # consent first, then the search
        cancel_at = started_at + timedelta(weeks=rng.expovariate(response.CANCEL_PER_WEEK))
        pause = None
        if rng.random() < response.PAUSE_SHARE:
            pause_from = started_at + timedelta(days=rng.randint(7, 60))
            weeks = rng.randint(*response.PAUSE_WEEKS)
            pause_until = datetime.combine(pause_from.date() + timedelta(weeks=weeks), time(0), pause_from.tzinfo)
            pause = (pause_from, pause_until)
        relax_at = None
        if rng.random() < response.RELAX_SHARE:
            relax_at = started_at + timedelta(weeks=rng.randint(*response.RELAX_WEEKS))
        radius = radius_km(patient.row)
        reach = radius + (response.RELAX_KM if relax_at else 0)
        return SearchState(
            key=key,
            patient=patient,
            started_at=started_at,
            radius_km=radius,
            candidates=index.candidates(patient.row, age=patient.age, reach_km=reach),
            cancel_at=cancel_at,
            pause=pause,
            relax_at=relax_at,
        )

    def _admission(self, practice: PracticeState, candidate: Candidate, at: datetime) -> tuple[bool, str | None]:
        """Apply the contact limits: one open inquiry, monthly cap, cooldown (rarely overridden)."""
        if practice.busy_until is not None and practice.busy_until > at:
            return False, None
        if sum(1 for created in practice.recent if created > at - MONTH) >= response.MONTHLY_CAP:
            return False, None
        if practice.cooldown_until is not None and practice.cooldown_until > at:
            accepting = self.therapists[candidate.therapist]["accepting_patients"]
            if accepting and self.rng.random() < response.OVERRIDE_SHARE:
                return True, OVERRIDE_REASONS[0]
            return False, None
        return True, None

    def _propose(self, candidate: Candidate, at: datetime, override: str | None) -> InquiryState:
        year = at.year
        self._year_counters[year] = self._year_counters.get(year, 0) + 1
        practice = self.practices[candidate.practice]
        inquiry = InquiryState(
            key=len(self.inquiries) + 1,
            reference=f"A-{year}-{self._year_counters[year]:06d}",
            therapist=self.therapists[candidate.therapist],
            practice=practice,
            created_at=at,
            override_reason=override,
        )
        self.inquiries.append(inquiry)
        practice.busy_until = at + UNTIL_REVIEWED
        practice.recent.append(at)
        if override:
            self.journal.audit(
                at, "inquiry.contact_limit_override", entity=Ref("inquiry", inquiry.key), reason=override
            )
        return inquiry

    def _add_item(self, inquiry: InquiryState, search: SearchState, candidate: Candidate) -> None:
        exploring = self.rng.random() < EXPLORATION_SHARE
        item = ItemState(
            key=len(self.items) + 1,
            inquiry=inquiry,
            search=search,
            candidate=candidate,
            is_exploration=exploring,
            selection_probability=round(self.rng.uniform(0.1, 0.4), 2) if exploring else None,
        )
        self.items.append(item)
        inquiry.items.append(item)
        search.open_items.append(item)
        search.asked.add(candidate.therapist)

    def _review(self, inquiry: InquiryState, at: datetime) -> None:
        """Staff approve (then the mail goes out, or the practice is called) or discard a proposal."""
        rng = self.rng
        reviewed = moment_between(
            rng, at + timedelta(hours=response.APPROVAL_HOURS[0]), at + timedelta(hours=response.APPROVAL_HOURS[1])
        )
        if rng.random() < response.DISCARD_SHARE:
            self.discard(inquiry, reviewed, reason=rng.choice(DISCARD_REASONS))
            return
        practice = inquiry.practice
        sent = None if practice.phone_only else reviewed + timedelta(minutes=rng.randint(*response.SEND_MINUTES))
        fate = response.draw_fate(rng, responsiveness=practice.responsiveness, phone_only=practice.phone_only)
        inquiry.plan = plan_follow_up(fate, approved_at=reviewed, sent_at=sent, hours=practice.row["phone_hours"])
        inquiry.approved_at = reviewed
        practice.busy_until = inquiry.plan.resolved_at
        self._push(inquiry.plan.resolved_at, 0, "resolve", inquiry)
        self.journal.audit(reviewed, "inquiry.approve", entity=Ref("inquiry", inquiry.key))
        self.journal.event(
            sent or reviewed,
            "inquiry.sent",
            aggregate=Ref("inquiry", inquiry.key),
            payload={"therapist_id": Ref("therapist", inquiry.therapist["id"]), "items": len(inquiry.items)},
        )

    def discard(self, inquiry: InquiryState, at: datetime, *, reason: str) -> None:
        """Close a proposal without sending it; its items leave their searches."""
        inquiry.status, inquiry.closed_at = "discarded", at
        inquiry.practice.busy_until = at
        for item in inquiry.items:
            if item.outcome == "pending":
                item.outcome = "withdrawn"  # never sent: nothing to wait for
                self._close(item)
        self.journal.audit(at, "inquiry.discard", entity=Ref("inquiry", inquiry.key), reason=reason)

    def _accept(self, item: ItemState, at: datetime) -> None:
        item.outcome = "accepted"
        item.proposed_first_session = self._first_session(at)
        search = item.search
        search.status, search.ended_at, search.paused = "successful", at, False
        self._close(item)
        self._withdraw_open(search)
        placement = PlacementState(len(self.placements) + 1, item, at, item.proposed_first_session)
        self.placements.append(placement)
        search.placement = placement
        self.journal.audit(
            at,
            "placement.create",
            entity=Ref("placement", placement.key),
            details={"search_id": Ref("search", search.key)},
        )
        self.journal.event(
            at,
            "search.successful",
            aggregate=Ref("search", search.key),
            payload={
                "therapist_id": Ref("therapist", item.candidate.therapist),
                "placement_id": Ref("placement", placement.key),
            },
        )

    def cancel(self, search: SearchState, at: datetime) -> None:
        """Cancel an active search now (used to make sure the demo shows a cancelled search)."""
        self._on_cancel(at, search)

    def _withdraw_open(self, search: SearchState) -> None:
        for item in search.open_items:
            item.outcome = "withdrawn"
        search.open_items.clear()

    def _close(self, item: ItemState) -> None:
        if item in item.search.open_items:
            item.search.open_items.remove(item)

    def _first_session(self, at: datetime) -> date:
        return at.date() + timedelta(days=self.rng.randint(*response.FIRST_SESSION_DAYS))

    def _push(self, at: datetime, priority: int, kind: str, subject: Any) -> None:
        heapq.heappush(self._queue, (at, priority, next(self._sequence), kind, subject))
