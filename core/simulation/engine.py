"""The placement simulator's day loop: the production matching pipeline against a plug-in world.

Every simulated day, in this order:
1. new searches arrive (Poisson, ``searches_per_week / 7`` a day); searches whose patient gives up end
   (``core.demo.response.CANCEL_PER_WEEK``) and their open items are withdrawn;
2. the follow-up ladder (``core.communication.followup.decide``, the production rule and its FOLLOWUP_*
   timing) reminds, calls or expires every open inquiry; expired items become ``no_answer``;
3. answers due today are recorded: first acceptance wins (placement, the search's other open items are
   withdrawn; a later offer is a conflict), any answer starts the practice's cooldown
   (MATCH_COOLDOWN_WEEKS), declines for capacity or unsuitability go into the pair history the filters read;
4. matching: a ``Snapshot`` of the simulated state, the one ``core.matching.snapshot.build_snapshot`` makes
   (assembled with ``assemble_snapshot`` from the therapists derived once per run and each search derived
   once, on arrival; the state itself is kept in arrays and dicts), and ``core.matching.pipeline.run_pipeline``
   proposes (candidates, hard filters, contact limits, cooldowns, scores, exploration, assignment: the
   production functions, nothing copied);
5. staff approve every proposal that passes the approval check of ``core.matching.limits`` (pure rules);
   the inquiries are sent and the world answers them (``World.respond``, validated);
6. answers that arrive the same day are recorded.

Each day is timed by phase (``SimulationResult.phase_seconds``, PHASES), so a benchmark can tell the
pipeline's share from the simulator's own work.

Three random streams are derived from the seed, so every policy sees the same arrivals, patients and
give-ups: "population", "world" and "matching" (exploration draws).

Example:
    result = simulate(SimulationConfig(policy="exact-prior", days=90, seed=1, therapists=300,
                                       searches_per_week=12), world=DemoWorld())
    result.report["placed_within"]["30"]
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.communication.followup import Action, LadderState, Rules, decide
from core.config import get_settings
from core.demo import response
from core.errors import ValidationError
from core.matching.filters import travel_minutes
from core.matching.limits import practice_rules, search_rule
from core.matching.models import InquiryStatus
from core.matching.pipeline import run_pipeline
from core.matching.score import FEATURE_COLUMNS, PriorModel, build_features
from core.matching.snapshot import assemble_snapshot, derive_searches, derive_therapists
from core.simulation.audit import ContactLog
from core.simulation.policies import (
    LearnedPolicyModel,
    SimulationSettings,
    assignment_of,
    check_policy,
    policy_settings,
)
from core.simulation.population import Geography, draw_patient, draw_therapists
from core.simulation.world import ITEM_COLUMNS, World, validate_answers

START = date(2027, 1, 4)  # a Monday; the calendar only matters for the ladder's local days
MATCHING_TIME = time(7, 0)  # the matching job runs before staff start work
LADDER_TIME = time(9, 0)
SEND_TIME = time(9, 0)  # approved in the morning review, mailed right after
DECLINES_REMEMBERED = ("declined_capacity", "declined_unsuitable")  # the filters read these from the history
LABELLED = ("offered", "declined_capacity", "declined_unsuitable", "declined_other", "no_answer")
S = InquiryStatus
# the parts of a simulated day, timed separately (SimulationResult.phase_seconds): "pipeline" is the production
# run_pipeline; "training" fits the learned model; the rest is the simulator's own work
PHASES = ("arrivals", "ladder", "answers", "training", "snapshot", "pipeline", "send")


@dataclass(frozen=True)
class SimulationConfig:
    policy: str
    days: int
    seed: int
    therapists: int = 2000
    searches_per_week: float = 80.0
    train_after: int = 60
    start: date = START

    def check(self) -> SimulationConfig:
        check_policy(self.policy)
        for name, value, least in (
            ("days", self.days, 1),
            ("therapists", self.therapists, 1),
            ("searches_per_week", self.searches_per_week, 0),
            ("train_after", self.train_after, 0),
        ):
            if value < least:
                raise ValidationError(f"--{name.replace('_', '-')} is {value}; give at least {least}", field=name)
        return self


class Practices:
    """Every practice's contact state, one array slot per practice (position = practice id - 1)."""

    def __init__(self, practice_ids: np.ndarray) -> None:
        ids = np.asarray(practice_ids, dtype=np.int64)
        if not np.array_equal(ids, np.arange(1, len(ids) + 1)):
            raise ValueError("the simulated practices must be numbered 1..n")
        n = len(ids)
        self.ids = ids
        self.open_inquiry = np.zeros(n, dtype=np.int64)  # 0: none open
        self.cooldown_until = np.full(n, np.nan)  # day
        self.last_contact = np.full(n, np.nan)  # day
        self.send_count = np.zeros(n, dtype=np.int64)
        self.closed = np.zeros(n, dtype=np.int64)
        self.answered = np.zeros(n, dtype=np.int64)
        self.items_answered = np.zeros(n, dtype=np.int64)
        self.items_offered = np.zeros(n, dtype=np.int64)
        self.send_slots: list[int] = []  # one entry per send: practice slot, and its day
        self.send_days: list[int] = []

    def slot(self, practice_id: int) -> int:
        return int(practice_id) - 1

    def sent(self, practice_id: int, inquiry_id: int, day: int) -> None:
        slot = self.slot(practice_id)
        self.open_inquiry[slot], self.last_contact[slot] = inquiry_id, day
        self.send_count[slot] += 1
        self.send_slots.append(slot)
        self.send_days.append(day)

    def recent_sends(self, day: int) -> np.ndarray:
        """Inquiries sent to each practice in the 30 days before ``day`` (and on it), per slot."""
        days = np.asarray(self.send_days, dtype=np.int64)
        slots = np.asarray(self.send_slots, dtype=np.int64)
        return np.bincount(slots[days >= day - 30], minlength=len(self.ids))


@dataclass
class Inquiry:
    inquiry_id: int
    practice_id: int
    therapist_id: int
    sent_day: int
    items: list[int]
    status: InquiryStatus = S.SENT
    reminded_day: int | None = None
    calls_made: int = 0
    answered: bool = False
    closed: bool = False


@dataclass
class Search:
    search_id: int
    started_day: int
    give_up_day: int
    patient: dict[str, Any]
    status: str = "active"
    ended_day: int | None = None
    open_items: set[int] = field(default_factory=set)


@dataclass
class SimulationResult:
    config: SimulationConfig
    searches: pd.DataFrame  # one row per search: started_day, ended_day, status, age, region
    items: pd.DataFrame  # one row per item sent: day, outcome, answer day, exploration, score
    counts: dict[str, int]
    contacts: ContactLog
    trainings: list[dict[str, Any]]
    seconds_per_day: list[float]
    report: dict[str, Any] = field(default_factory=dict)
    # where each day's seconds went (PHASES: phase -> one entry per day); "pipeline" is run_pipeline itself
    phase_seconds: dict[str, list[float]] = field(default_factory=dict)
    phase_cpu_seconds: dict[str, list[float]] = field(default_factory=dict)  # the same in this process's CPU time
    setup_seconds: float = 0.0  # drawing the population, deriving the therapists and starting the world


class Simulation:
    """The simulated service and its world; ``run()`` plays every day and returns the result."""

    def __init__(self, config: SimulationConfig, *, world: World, settings: SimulationSettings | None = None) -> None:
        constructed = clock.perf_counter()
        self.config = config.check()
        self.world = world
        base = settings or SimulationSettings.from_settings(get_settings())
        self.settings = policy_settings(config.policy, base)
        self.rules = Rules(base.followup_reminder_days, base.followup_call_days, base.followup_call_attempts)
        self.zone = ZoneInfo(base.timezone)
        streams = np.random.SeedSequence(config.seed).spawn(3)
        self.population_rng = np.random.default_rng(streams[0])
        self.world_rng = np.random.default_rng(streams[1])
        self.matching_rng = np.random.default_rng(streams[2])
        self.draw = random.Random(int(self.population_rng.integers(2**63)))  # noqa: S311 - simulation
        self.geography = Geography.load(therapists=config.therapists)
        self.therapists = draw_therapists(
            self.geography, count=config.therapists, rng=self.draw, today=config.start
        ).assign(status="active")
        self.practice_of = dict(
            zip(self.therapists["therapist_id"].tolist(), self.therapists["practice_id"].tolist(), strict=True)
        )
        self.practice_size = self.therapists.groupby("practice_id").size().to_dict()
        self.practices = Practices(np.unique(self.therapists["practice_id"].to_numpy()))
        # the therapist side never changes during a run: its filter columns are derived once
        self.derived_therapists = derive_therapists(self.therapists)
        self.searches: dict[int, Search] = {}
        self.active: dict[int, Search] = {}
        self.inquiries: dict[int, Inquiry] = {}
        self.open_inquiries: dict[int, Inquiry] = {}
        self.items: list[dict[str, Any]] = []
        self.features: list[pd.DataFrame] = []  # per sending day, the features each item was scored with
        self.due: dict[int, list[int]] = {}  # answer day -> item indices
        # the declines the filters read: search, therapist, outcome, day (one list per column), appended as they
        # arrive and moved into history_arrays (only those of still active searches) when a snapshot is built
        self.pair_history: tuple[list[int], list[int], list[str], list[int]] = ([], [], [], [])
        self.history_arrays = (
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=np.int64),
        )
        self.feature_table: pd.DataFrame | None = None  # self.features of earlier trainings, put together
        self.give_up_on: dict[int, list[int]] = {}  # day -> searches that give up on it (if still active)
        self.recent_sends = np.zeros(0, dtype=np.int64)  # per practice slot, set by _match for the approval check
        # the active searches' filter columns, each search derived once (derive_searches) on its first match day
        self.active_table: pd.DataFrame | None = None
        self.derived_upto = 0  # the highest search id derived so far
        self.ignored_relaxations: dict[int, list[dict[str, Any]]] = {}
        self.contacts = ContactLog(
            cooldown_days=7 * base.match_cooldown_weeks,
            monthly_cap=base.match_monthly_cap,
            max_parallel=base.match_parallel_per_search,
        )
        self.counts = dict.fromkeys(
            (
                "inquiries",
                "items",
                "reminders",
                "calls",
                "expired",
                "placements",
                "conflicts",
                "late_answers",
                "given_up",
                "refused_at_approval",
            ),
            0,
        )
        self.learned = (
            LearnedPolicyModel(train_after=config.train_after, seed=config.seed)
            if config.policy == "exact-learned"
            else None
        )
        self.seconds_per_day: list[float] = []
        self.phase_seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
        self.phase_cpu_seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
        self.setup_seconds = clock.perf_counter() - constructed

    # the loop ------------------------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        started = clock.perf_counter()
        self.world.start(self._practice_frame(), self.world_rng)
        self.setup_seconds += clock.perf_counter() - started
        for day in range(self.config.days):
            started = clock.perf_counter()
            for seconds in (*self.phase_seconds.values(), *self.phase_cpu_seconds.values()):
                seconds.append(0.0)
            with self._timed("arrivals"):
                self._arrivals(day)
                self._give_ups(day)
            with self._timed("ladder"):
                self._ladder(day)
            with self._timed("answers"):
                self._answers(day)
            if self.learned is not None and self.learned.due(day):
                with self._timed("training"):
                    self._train(day)
            self._match(day)
            with self._timed("answers"):
                self._answers(day)
            self.seconds_per_day.append(clock.perf_counter() - started)
        return SimulationResult(
            config=self.config,
            searches=self._search_frame(),
            items=pd.DataFrame(self.items),
            counts=dict(self.counts),
            contacts=self.contacts,
            trainings=self.learned.trainings if self.learned else [],
            seconds_per_day=self.seconds_per_day,
            phase_seconds=self.phase_seconds,
            phase_cpu_seconds=self.phase_cpu_seconds,
            setup_seconds=self.setup_seconds,
        )

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        started, cpu = clock.perf_counter(), clock.process_time()
        try:
            yield
        finally:
            self.phase_seconds[phase][-1] += clock.perf_counter() - started
            self.phase_cpu_seconds[phase][-1] += clock.process_time() - cpu

    def _moment(self, day: int, at: time) -> datetime:
        return datetime.combine(self.config.start + timedelta(days=day), at, self.zone)

    def _arrivals(self, day: int) -> None:
        for _ in range(int(self.population_rng.poisson(self.config.searches_per_week / 7))):
            search_id = len(self.searches) + 1
            weeks = self.draw.expovariate(response.CANCEL_PER_WEEK)
            patient = draw_patient(self.geography, rng=self.draw, today=self.config.start)
            search = Search(search_id, day, day + max(1, int(weeks * 7)), patient)
            self.searches[search_id] = self.active[search_id] = search
            self.give_up_on.setdefault(search.give_up_day, []).append(search_id)

    def _give_ups(self, day: int) -> None:
        # a search gives up on exactly its give_up_day (>= the day after it arrived), in arrival order
        for search_id in sorted(self.give_up_on.pop(day, [])):
            search = self.active.get(search_id)
            if search is not None:
                self._end(search, day, "cancelled")
                self.counts["given_up"] += 1

    def _end(self, search: Search, day: int, status: str) -> None:
        search.status, search.ended_day = status, day
        del self.active[search.search_id]
        for index in sorted(search.open_items):
            self._close_item(index, "withdrawn", day)

    def _close_item(self, index: int, outcome: str, day: int) -> None:
        item = self.items[index]
        item["outcome"], item["closed_day"] = outcome, day
        self.searches[item["search_id"]].open_items.discard(index)
        self.contacts.item_closed(item["search_id"])
        inquiry = self.inquiries[item["inquiry_id"]]
        if not inquiry.closed and all(self.items[i]["outcome"] != "pending" for i in inquiry.items):
            self._close_inquiry(inquiry, day)

    def _close_inquiry(self, inquiry: Inquiry, day: int) -> None:
        inquiry.closed = True
        del self.open_inquiries[inquiry.inquiry_id]
        slot = self.practices.slot(inquiry.practice_id)
        self.practices.open_inquiry[slot] = 0
        self.contacts.inquiry_closed(inquiry.practice_id, inquiry.inquiry_id)
        if inquiry.answered or inquiry.status == S.EXPIRED:
            self.practices.closed[slot] += 1
            self.practices.answered[slot] += inquiry.answered

    def _ladder(self, day: int) -> None:
        now = self._moment(day, LADDER_TIME)
        # the production rule decides once per distinct ladder state: inquiries sent, reminded and called on
        # the same days are in the same state (an open inquiry always has pending items)
        decisions: dict[tuple, Any] = {}
        for inquiry in list(self.open_inquiries.values()):
            if inquiry.sent_day >= day:
                continue
            key = (inquiry.status, inquiry.sent_day, inquiry.reminded_day, inquiry.calls_made)
            decision = decisions.get(key)
            if decision is None:
                decision = decisions[key] = self._decide(inquiry, now)
            if decision.action == Action.REMIND:
                inquiry.status, inquiry.reminded_day = S.REMINDED, day
                self.counts["reminders"] += 1
            elif decision.action == Action.CALL:
                # the scheduled call is made the same day; an answer on it arrives with the world's answer
                inquiry.status = S.CALL_SCHEDULED
                inquiry.calls_made += 1
                self.counts["calls"] += 1
            elif decision.action == Action.EXPIRE:
                inquiry.status = S.EXPIRED
                self.counts["expired"] += 1
                for index in inquiry.items:
                    if self.items[index]["outcome"] == "pending":
                        self._close_item(index, "no_answer", day)

    def _decide(self, inquiry: Inquiry, now: datetime) -> Any:
        pending = sum(1 for i in inquiry.items if self.items[i]["outcome"] == "pending")
        state = LadderState(
            status=inquiry.status,
            sent_at=self._moment(inquiry.sent_day, SEND_TIME),
            reminded_at=None if inquiry.reminded_day is None else self._moment(inquiry.reminded_day, LADDER_TIME),
            has_email=True,
            pending_items=pending,
            calls_made=inquiry.calls_made,
        )
        return decide(state, now=now, rules=self.rules, tz=self.settings.timezone)

    def _answers(self, day: int) -> None:
        for index in self.due.pop(day, []):
            item = self.items[index]
            inquiry = self.inquiries[item["inquiry_id"]]
            outcome = item["world_outcome"]
            if item["outcome"] == "no_answer":
                self.counts["late_answers"] += 1
                continue
            if item["outcome"] == "withdrawn":
                self.counts["conflicts"] += outcome == "offered"
                continue
            slot = self.practices.slot(inquiry.practice_id)
            if not inquiry.answered:
                inquiry.answered = True
                until = day + 7 * self.settings.match_cooldown_weeks
                self.practices.cooldown_until[slot] = np.fmax(self.practices.cooldown_until[slot], until)
                self.contacts.answered(inquiry.practice_id, day)
            self.practices.items_answered[slot] += 1
            if outcome in DECLINES_REMEMBERED:
                for column, value in zip(
                    self.pair_history, (item["search_id"], item["therapist_id"], outcome, day), strict=True
                ):
                    column.append(value)
            if outcome == "offered":
                self.practices.items_offered[slot] += 1
                search = self.searches[item["search_id"]]
                self._close_item(index, "offered", day)
                self._end(search, day, "successful")
                self.counts["placements"] += 1
            else:
                self._close_item(index, outcome, day)

    # matching ------------------------------------------------------------------------------------------

    def _match(self, day: int) -> None:
        if not self.active:
            return
        now = self._moment(day, MATCHING_TIME)
        today = now.date()
        with self._timed("snapshot"):
            self.recent_sends = self.practices.recent_sends(day)
            # what build_snapshot(therapists=self.therapists, ...) returns, with the therapist side derived once
            snapshot = assemble_snapshot(
                now=now,
                today=today,
                searches=self._derived_active(),
                therapists=self.derived_therapists,
                practices=self._practices_frame(day, now),
                pair_history=self._history_frame(),
                searches_derived=True,
                ignored_relaxations=self.ignored_relaxations,
            )
        model = self.learned.current if self.learned else PriorModel()
        with self._timed("pipeline"):
            result = run_pipeline(
                snapshot,
                now=now,
                settings=self.settings,
                rng=self.matching_rng,
                model=model,
                assignment=assignment_of(self.config.policy),
            )
        with self._timed("send"):
            approved = [inquiry for inquiry in result.inquiries if self._approvable(inquiry, day, today)]
            self.counts["refused_at_approval"] += len(result.inquiries) - len(approved)
            if approved:
                self._send(approved, snapshot, day)

    def _approvable(self, proposed: Any, day: int, today: date) -> bool:
        """The approval check staff's "approve" runs (core.matching.limits), on the simulated state."""
        slot = self.practices.slot(self.practice_of[proposed.therapist_id])
        open_inquiry = int(self.practices.open_inquiry[slot])
        cooldown_until = self.practices.cooldown_until[slot]
        found = practice_rules(
            open_references=[f"#{open_inquiry}"] if open_inquiry else [],
            cooldown_until=None
            if np.isnan(cooldown_until)
            else self.config.start + timedelta(days=int(cooldown_until)),
            recent_count=int(self.recent_sends[slot]),
            monthly_cap=self.settings.match_monthly_cap,
            today=today,
        )
        for item in proposed.items:
            open_count = len(self.searches[item.search_id].open_items)
            violation = search_rule(
                reference=str(item.search_id), open_count=open_count, limit=self.settings.match_parallel_per_search
            )
            if violation is not None:
                found.append(violation)
        return not found

    def _send(self, approved: list[Any], snapshot: Any, day: int) -> None:
        search_rows = pd.Series(np.arange(len(snapshot.searches)), index=snapshot.searches["search_id"].to_numpy())
        therapist_rows = pd.Series(
            np.arange(len(snapshot.therapists)), index=snapshot.therapists["therapist_id"].to_numpy()
        )
        first = len(self.items)
        rows = []
        for proposed in approved:
            inquiry_id = len(self.inquiries) + 1
            practice_id = int(self.practice_of[proposed.therapist_id])
            inquiry = Inquiry(inquiry_id, practice_id, proposed.therapist_id, day, [])
            self.inquiries[inquiry_id] = self.open_inquiries[inquiry_id] = inquiry
            self.contacts.sent(practice_id, inquiry_id, day, [item.search_id for item in proposed.items])
            self.practices.sent(practice_id, inquiry_id, day)
            self.counts["inquiries"] += 1
            for item in proposed.items:
                index = len(self.items)
                inquiry.items.append(index)
                self.searches[item.search_id].open_items.add(index)
                self.items.append(
                    {
                        "day": day,
                        "inquiry_id": inquiry_id,
                        "practice_id": practice_id,
                        "therapist_id": proposed.therapist_id,
                        "search_id": item.search_id,
                        "score": item.score,
                        "is_exploration": item.is_exploration,
                        "selection_probability": item.selection_probability,
                        "outcome": "pending",
                        "closed_day": None,
                        "world_outcome": None,
                        "answer_day": None,
                    }
                )
                rows.append(
                    (index, inquiry_id, search_rows[item.search_id], therapist_rows[proposed.therapist_id], item)
                )
                self.counts["items"] += 1
        s = np.asarray([row[2] for row in rows], dtype=np.int64)
        t = np.asarray([row[3] for row in rows], dtype=np.int64)
        km = np.asarray([row[4].distance_km for row in rows], dtype=float)
        features = build_features(snapshot, s, t, km)
        features.index = np.arange(first, len(self.items))
        self.features.append(features)
        frame = self._item_frame(snapshot, rows, s, t, km, features, day)
        answers = validate_answers(self.world.respond(frame, self.world_rng), frame)
        answered = answers["answered"].to_numpy()
        answer_days = answers["answer_day"].to_numpy()
        outcomes = answers["outcome"].to_numpy()
        for position, (index, *_rest) in enumerate(rows):
            if answered[position]:
                answer_day = int(answer_days[position])
                self.items[index]["world_outcome"] = outcomes[position]
                self.items[index]["answer_day"] = answer_day
                self.due.setdefault(answer_day, []).append(index)

    def _item_frame(self, snapshot, rows, s, t, km, features, day) -> pd.DataFrame:
        S_, T_, P_ = snapshot.searches, snapshot.therapists, snapshot.practices
        sizes = pd.Series([row[1] for row in rows]).map(pd.Series([row[1] for row in rows]).value_counts())
        practice_rows = T_["practice_row"].to_numpy()[t]
        practice_keys = P_["practice_key"].to_numpy()[practice_rows]

        def joined(values) -> list[str]:
            return [";".join(v or ()) for v in values]

        procedures = [
            ";".join(sorted({entry["procedure"] for entry in entries or ()})) for entries in T_["procedures"].iloc[t]
        ]
        accepting = T_["accepting"].to_numpy()[t]
        frame = pd.DataFrame(
            {
                "day": np.full(len(rows), day, dtype=np.int64),
                "inquiry_id": [row[1] for row in rows],
                "practice_id": [int(self.practice_of[int(x)]) for x in T_["therapist_id"].to_numpy()[t]],
                "therapist_id": T_["therapist_id"].to_numpy()[t].astype(np.int64),
                "search_id": S_["search_id"].to_numpy()[s].astype(np.int64),
                "inquiry_size": sizes.to_numpy(dtype=np.int64),
                "distance_km": km,
                "travel_minutes": travel_minutes(snapshot, s, km),
                "waiting_days": features["waiting_days"].to_numpy().astype(np.int64),
                "patient_age": S_["age"].to_numpy()[s].astype(np.int64),
                "patient_gender": S_["gender"].to_numpy()[s],
                "diagnoses": joined(S_["diagnoses"].iloc[s]),
                "wished_procedures": joined(S_["procedure_wishes"].iloc[s]),
                "therapist_procedures": procedures,
                "therapist_gender": T_["gender"].to_numpy()[t],
                "therapist_min_age": T_["age_min"].to_numpy()[t],
                "therapist_max_age": T_["age_max"].to_numpy()[t],
                "therapist_languages": joined(T_["languages"].iloc[t]),
                "patient_languages": joined(S_["languages"].iloc[s]),
                "group_ok": np.isin(S_["setting_wish"].to_numpy()[s], ["group", "either"]),
                "accepting": [None if np.isnan(a) else bool(a) for a in accepting],
                "accepting_age_days": features["accepting_age_days"].to_numpy(),
                "practice_therapists": [int(self.practice_size[k]) for k in practice_keys],
                "inquiries_last_30_days": P_["inquiries_30d"].to_numpy()[practice_rows].astype(np.int64),
                "overlap_hours": features["overlap_hours"].to_numpy(),
                "insurance": S_["insurance_type"].to_numpy()[s],
            },
            columns=list(ITEM_COLUMNS),
        )
        return frame

    # training ------------------------------------------------------------------------------------------

    def _train(self, day: int) -> None:
        """Train on every item whose outcome is known by ``day`` (features as scored at proposal time)."""
        known = [
            i
            for i, item in enumerate(self.items)
            if item["outcome"] in LABELLED and item["closed_day"] is not None and item["closed_day"] < day
        ]
        if not known or self.learned is None:
            return
        if self.features:
            earlier = [] if self.feature_table is None else [self.feature_table]
            self.feature_table = pd.concat([*earlier, *self.features])
            self.features = []
        features = self.feature_table.loc[known, list(FEATURE_COLUMNS)].reset_index(drop=True)
        labels = np.asarray([self.items[i]["outcome"] == "offered" for i in known], dtype=int)
        self.learned.train(day, features, labels)

    # frames for the snapshot -----------------------------------------------------------------------------

    def _derived_active(self) -> pd.DataFrame:
        """What derive_searches(self._active_frame()) returns: kept rows of earlier days, new searches derived."""
        ids = np.fromiter(self.active, dtype=np.int64, count=len(self.active))  # ascending: arrival order
        parts = []
        if self.active_table is not None:
            parts.append(self.active_table[np.isin(self.active_table["search_id"].to_numpy(), ids)])
        new = [self.active[i] for i in range(self.derived_upto + 1, len(self.searches) + 1) if i in self.active]
        if new:
            derived, ignored = derive_searches(self._active_frame(new))
            parts.append(derived)
            self.ignored_relaxations.update(ignored)
            self.derived_upto = new[-1].search_id
        table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        table["open_items"] = np.asarray([len(self.active[i].open_items) for i in ids.tolist()], dtype=np.int64)
        self.active_table = table
        self.ignored_relaxations = {k: v for k, v in self.ignored_relaxations.items() if k in self.active}
        return table

    def _active_frame(self, searches: list[Search] | None = None) -> pd.DataFrame:
        """The plain search frame of ``searches`` (default: every active search), as build_snapshot reads it."""
        searches = list(self.active.values()) if searches is None else searches
        patient_columns = [c for c in searches[0].patient if c != "region"]
        frame = pd.DataFrame([{c: s.patient[c] for c in patient_columns} for s in searches])
        frame["search_id"] = [s.search_id for s in searches]
        frame["patient_id"] = frame["search_id"]
        frame["started_on"] = [self.config.start + timedelta(days=s.started_day) for s in searches]
        frame["open_items"] = [len(s.open_items) for s in searches]
        frame["max_parallel"] = self.settings.match_parallel_per_search
        frame["excluded_therapist_ids"] = [()] * len(frame)
        return frame

    def _practices_frame(self, day: int, now: datetime) -> pd.DataFrame:
        """The contact state of every practice sent an inquiry so far (the others start with no history)."""
        p = self.practices
        rows = np.flatnonzero(p.send_count > 0)
        columns = ["practice_key", "open_inquiries", "inquiries_30d", "cooldown_until", "last_contacted_at"]
        if not rows.size:
            return pd.DataFrame({c: [] for c in columns}).astype({"practice_key": int})
        dates = {}  # day -> (date, moment): few distinct days
        for value in np.unique(np.concatenate([p.cooldown_until[rows], p.last_contact[rows]])):
            if not np.isnan(value):
                dates[value] = (self.config.start + timedelta(days=int(value)), self._moment(int(value), SEND_TIME))
        return pd.DataFrame(
            {
                "practice_key": p.ids[rows],
                "open_inquiries": (p.open_inquiry[rows] > 0).astype(np.int64),
                "inquiries_30d": self.recent_sends[rows],
                "inquiries_closed": p.closed[rows],
                "inquiries_answered": p.answered[rows],
                "items_answered": p.items_answered[rows],
                "items_offered": p.items_offered[rows],
                "cooldown_until": [None if np.isnan(v) else dates[v][0] for v in p.cooldown_until[rows]],
                "last_contacted_at": [None if np.isnan(v) else dates[v][1] for v in p.last_contact[rows]],
            }
        )

    def _history_frame(self) -> pd.DataFrame | None:
        search_ids, therapist_ids, outcomes, days = (
            np.concatenate([kept, np.asarray(new, dtype=kept.dtype)])
            for kept, new in zip(self.history_arrays, self.pair_history, strict=True)
        )
        for column in self.pair_history:
            column.clear()
        keep = np.isin(search_ids, np.fromiter(self.active, dtype=np.int64, count=len(self.active)))
        # an ended search never searches again: its declines are not needed any more
        self.history_arrays = search_ids, therapist_ids, outcomes, days = (
            search_ids[keep],
            therapist_ids[keep],
            outcomes[keep],
            days[keep],
        )
        if not search_ids.size:
            return None
        moments = {int(d): self._moment(int(d), SEND_TIME) for d in np.unique(days)}
        return pd.DataFrame(
            {
                "search_id": search_ids,
                "therapist_id": therapist_ids,
                "outcome": outcomes,
                "answered_at": [moments[int(d)] for d in days],
            }
        )

    def _practice_frame(self) -> pd.DataFrame:
        """The world's view of the practices (core.simulation.world.PRACTICE_COLUMNS)."""
        t = self.therapists.sort_values("practice_id", kind="stable")
        practice_ids, first = np.unique(t["practice_id"].to_numpy(), return_index=True)
        bounds = list(zip(first.tolist(), [*first[1:].tolist(), len(t)], strict=True))

        def per_practice(values: list) -> list[tuple]:
            return [tuple(values[a:b]) for a, b in bounds]

        procedures = [";".join(sorted({e["procedure"] for e in entries})) for entries in t["procedures"]]
        return pd.DataFrame(
            {
                "practice_id": practice_ids.astype(int),
                "latitude": t["latitude"].to_numpy(dtype=float)[first],
                "longitude": t["longitude"].to_numpy(dtype=float)[first],
                "therapists": np.diff([*first.tolist(), len(t)]),
                "therapist_ids": per_practice([int(x) for x in t["therapist_id"]]),
                "therapist_genders": per_practice(t["gender"].tolist()),
                "therapist_procedures": per_practice(procedures),
                "accepting": per_practice(t["accepting_patients"].tolist()),
                "statutory_licence": per_practice([bool(x) for x in t["statutory_licence"]]),
                "languages": per_practice([";".join(codes) for codes in t["languages"]]),
            }
        )

    def _search_frame(self) -> pd.DataFrame:
        from core.simulation.population import age_band

        return pd.DataFrame(
            {
                "search_id": [s.search_id for s in self.searches.values()],
                "started_day": [s.started_day for s in self.searches.values()],
                "ended_day": [s.ended_day for s in self.searches.values()],
                "status": [s.status for s in self.searches.values()],
                "age_band": [age_band(s.patient["age"]) for s in self.searches.values()],
                "region": [s.patient["region"] for s in self.searches.values()],
            },
            columns=["search_id", "started_day", "ended_day", "status", "age_band", "region"],
        )
