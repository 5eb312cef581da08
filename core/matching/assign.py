"""Assign (DESIGN 4, step 4): which searches go into which inquiry, for the whole batch at once.

Maximise the expected placements weighted by waiting time, ``sum(value)`` over the chosen pairs, where a
pair's value is its score times its search's weight (``core.matching.score.waiting_weight``) times the chance
that the search's open items bring no offer first (``core.matching.score.first_offer_share``: first
acceptance wins, so one more item helps only a search not yet offered a place), subject to:

- a search gets at most its free capacity of new items (max_parallel_inquiries minus its open items);
- a practice gets at most ONE new inquiry, addressed to ONE of its therapists, with at most
  MATCH_INQUIRY_MAX_SIZE patients (practices with an open inquiry, in cooldown or at their monthly cap
  have no eligible pairs: the filters removed them);
- a search appears at most once per practice.

Exact solution. Without the "one therapist per practice" rule this is a min-cost flow (a transportation
problem), solved exactly by OR-Tools (``SimpleMinCostFlow``):

    source -> search (capacity: free slots) -> practice (capacity 1 per search; cost -value of the search's
    most valuable eligible therapist there) -> sink (capacity: inquiry size);   source -> sink bypass (cost 0)

Costs must be integers: values are scaled by ``SCALE`` = 10^6 and rounded, so the optimum is exact in
micro-placements (each pair's value is off by at most 5e-7). This flow is a relaxation: it may send two
searches of one practice to different therapists ("splits" the practice), and its value bounds every
assignment from above. When it splits nothing, it is optimal. Otherwise a repair fixes every practice
with several eligible therapists to one (the one worth most to the searches the flow gave it, else to all
its searches) and solves once more, which gives a feasible assignment; the better of it and the greedy
baseline becomes the incumbent of a best-first branch and bound over the split practices (each branch
fixes a practice to one therapist; the flow bounds every branch), which ends with the exact optimum.
Branching is skipped when the root splits more than ``max_branch_practices`` practices and stops after
``max_solves`` flow solves: the result is then NOT exact; it says ``proven_optimal=False`` and gives the
flow's upper bound (valid, but loose: nationwide about 1.5 % where the true gap is under 0.4 %). The MIP of
``core.matching.assign_mip`` gives the true bound and closes the gap when time allows (the pipeline runs
it on batches of up to MIP_MAX_PAIRS pairs; tests/benchmarks/test_bench_matching.py reports both).

Greedy baselines: ``solve_greedy`` is the anchor's rule (what staff did by hand: oldest search first,
nearest eligible therapist first); ``solve_value_greedy`` takes the most valuable pair first. Both keep the
same constraints; the value-ordered one is the fair baseline and the incumbent of the exact search.
Exploration: ``draw_exploration`` reserves a share of the slots for uniformly drawn eligible pairs and
records the probability of each draw (see there).

Example:
    problem = AssignmentProblem.build(search=s, therapist=t, practice=p, value=v, distance_km=km,
                                      search_capacity=caps, practices=n_practices, inquiry_size=6)
    best = solve_exact(problem)
    best.pairs, best.objective, best.proven_optimal
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace

import numpy as np
from ortools.graph.python import min_cost_flow

SCALE = 1_000_000  # integer cost units per weighted expected placement (micro-placements)
MAX_SOLVES = 64  # flow solves the branch and bound may spend
MAX_BRANCH_PRACTICES = 12  # split practices beyond which branching is not attempted (huge batches)


@dataclass(frozen=True)
class AssignmentProblem:
    """Eligible pairs and capacities; pair arrays are aligned, search/practice arrays are per row."""

    search: np.ndarray  # int64 per pair: search row
    therapist: np.ndarray  # int64 per pair: therapist row
    practice: np.ndarray  # int64 per pair: practice row
    value: np.ndarray  # float per pair: score x waiting weight, >= 0
    distance_km: np.ndarray  # float per pair (greedy takes the nearest)
    search_capacity: np.ndarray  # int64 per search row: new items allowed
    practice_capacity: np.ndarray  # int64 per practice row: new items allowed in its one inquiry
    practice_therapist: np.ndarray  # int64 per practice row: therapist already chosen, -1 = free
    search_priority: np.ndarray  # float per search row: lower goes first in the greedy (start day)

    @classmethod
    def build(
        cls,
        *,
        search: np.ndarray,
        therapist: np.ndarray,
        practice: np.ndarray,
        value: np.ndarray,
        distance_km: np.ndarray,
        search_capacity: np.ndarray,
        practices: int,
        inquiry_size: int,
        search_priority: np.ndarray | None = None,
    ) -> AssignmentProblem:
        """Return a problem where every practice is free and may take ``inquiry_size`` patients."""
        capacity = np.asarray(search_capacity, dtype=np.int64)
        return cls(
            search=np.asarray(search, dtype=np.int64),
            therapist=np.asarray(therapist, dtype=np.int64),
            practice=np.asarray(practice, dtype=np.int64),
            value=np.asarray(value, dtype=float),
            distance_km=np.asarray(distance_km, dtype=float),
            search_capacity=capacity,
            practice_capacity=np.full(practices, inquiry_size, dtype=np.int64),
            practice_therapist=np.full(practices, -1, dtype=np.int64),
            search_priority=np.arange(len(capacity), dtype=float)
            if search_priority is None
            else np.asarray(search_priority, dtype=float),
        )

    def __len__(self) -> int:
        return len(self.search)

    def objective(self, pairs: np.ndarray) -> float:
        """Return the summed value of the chosen pairs."""
        return float(self.value[np.asarray(pairs, dtype=np.int64)].sum())

    def gains(self) -> np.ndarray:
        """Return the integer value per pair used as the flow's (negated) cost."""
        return np.rint(self.value * SCALE).astype(np.int64)


@dataclass(frozen=True)
class Assignment:
    pairs: np.ndarray  # chosen pair indices, sorted
    objective: float  # sum of value over the chosen pairs
    upper_bound: float  # no assignment is worth more (equals the objective when proven)
    proven_optimal: bool
    solves: int = 0  # flow solves spent
    split_practices: int = 0  # practices the first flow split between therapists


def violations(problem: AssignmentProblem, pairs: np.ndarray) -> list[str]:
    """Return every broken constraint of a choice of pairs (empty when it is feasible)."""
    pairs = np.asarray(pairs, dtype=np.int64)
    found = []
    if len(np.unique(pairs)) != len(pairs):
        found.append("a pair is chosen twice")
    s, t, p = problem.search[pairs], problem.therapist[pairs], problem.practice[pairs]
    per_search = np.bincount(s, minlength=len(problem.search_capacity))
    for row in np.flatnonzero(per_search > problem.search_capacity):
        found.append(f"search row {row} gets {per_search[row]} items, capacity {problem.search_capacity[row]}")
    per_practice = np.bincount(p, minlength=len(problem.practice_capacity))
    for row in np.flatnonzero(per_practice > problem.practice_capacity):
        found.append(f"practice row {row} gets {per_practice[row]} items, capacity {problem.practice_capacity[row]}")
    therapists = {(int(a), int(b)) for a, b in zip(p, t, strict=True)}
    counts: dict[int, int] = {}
    for practice, therapist in therapists:
        counts[practice] = counts.get(practice, 0) + 1
        fixed = problem.practice_therapist[practice]
        if fixed >= 0 and fixed != therapist:
            found.append(f"practice row {practice} is fixed to therapist row {fixed}, got {therapist}")
    found += [f"practice row {row} gets more than one inquiry" for row, n in counts.items() if n > 1]
    if len({(int(a), int(b)) for a, b in zip(s, p, strict=True)}) != len(pairs):
        found.append("a search appears twice in one practice")
    return found


# the flow --------------------------------------------------------------------------------------------------


class _Network:
    """The relaxation as a transportation problem, solved again with some practices fixed to one therapist.

    Within a practice a search takes one slot whichever therapist it is asked for, so the relaxation only
    needs each search's most valuable eligible therapist per practice: one arc per (search, practice).
    Fixing a practice to a therapist keeps the arcs of the searches eligible for that therapist, at their
    value for it.
    """

    def __init__(self, problem: AssignmentProblem) -> None:
        self.problem = problem
        fixed = problem.practice_therapist[problem.practice]
        usable = (
            (problem.search_capacity[problem.search] > 0)
            & (problem.practice_capacity[problem.practice] > 0)
            & ((fixed < 0) | (fixed == problem.therapist))
        )
        self.pairs = np.flatnonzero(usable)  # problem pair index per usable pair
        self.search = problem.search[self.pairs]
        self.therapist = problem.therapist[self.pairs]
        self.practice = problem.practice[self.pairs]
        self.gain = problem.gains()[self.pairs]
        width = len(problem.practice_capacity)
        _, self.group = np.unique(self.search * width + self.practice, return_inverse=True)
        # best first within each (search, practice): highest gain, then lowest therapist row
        self.order = np.lexsort((self.therapist, -self.gain, self.group))
        self.solves = 0

    def team(self) -> dict[int, np.ndarray]:
        """Return {practice row: its therapist rows} for practices with several eligible therapists."""
        keys = np.unique(self.practice * (self.therapist.max(initial=0) + 1) + self.therapist)
        practice, therapist = np.divmod(keys, self.therapist.max(initial=0) + 1)
        starts = np.flatnonzero(np.r_[True, practice[1:] != practice[:-1]]) if len(keys) else np.empty(0, int)
        ends = np.r_[starts[1:], len(keys)].astype(int) if len(keys) else np.empty(0, int)
        return {int(practice[a]): therapist[a:b] for a, b in zip(starts, ends, strict=True) if b - a > 1}

    def solve(self, fixed: dict[int, int]) -> tuple[np.ndarray, int]:
        """Return (chosen problem pair indices, total gain) with practices in ``fixed`` limited to one therapist."""
        order = self.order
        if fixed:
            keys = np.fromiter(fixed.keys(), dtype=np.int64)
            chosen = np.fromiter(fixed.values(), dtype=np.int64)
            sort = np.argsort(keys)
            keys, chosen = keys[sort], chosen[sort]
            at = np.clip(np.searchsorted(keys, self.practice[order]), 0, len(keys) - 1)
            order = order[(keys[at] != self.practice[order]) | (chosen[at] == self.therapist[order])]
        groups = self.group[order]
        best = order[np.r_[True, groups[1:] != groups[:-1]]] if len(order) else order
        self.solves += 1
        if not len(best):
            return np.empty(0, dtype=np.int64), 0
        problem = self.problem
        searches, s_node = np.unique(self.search[best], return_inverse=True)
        practices, p_node = np.unique(self.practice[best], return_inverse=True)
        base_practice = 2 + len(searches)
        graph = min_cost_flow.SimpleMinCostFlow()
        supply = int(problem.search_capacity[searches].sum())

        def add(
            tails: np.ndarray, heads: np.ndarray, capacities: np.ndarray | int, costs: np.ndarray | int
        ) -> np.ndarray:
            n = len(tails)
            return np.asarray(
                graph.add_arcs_with_capacity_and_unit_cost(
                    np.asarray(tails, dtype=np.int32),
                    np.asarray(heads, dtype=np.int32),
                    np.broadcast_to(np.asarray(capacities, dtype=np.int64), (n,)).copy(),
                    np.broadcast_to(np.asarray(costs, dtype=np.int64), (n,)).copy(),
                ),
                dtype=np.int64,
            )

        add(np.zeros(len(searches)), 2 + np.arange(len(searches)), problem.search_capacity[searches], 0)
        arcs = add(2 + s_node, base_practice + p_node, 1, -self.gain[best])
        add(base_practice + np.arange(len(practices)), np.ones(len(practices)), problem.practice_capacity[practices], 0)
        add(np.zeros(1), np.ones(1), np.array([supply]), 0)  # the bypass: slots may stay empty
        graph.set_node_supply(0, supply)
        graph.set_node_supply(1, -supply)
        status = graph.solve()
        if status != graph.OPTIMAL:
            raise RuntimeError(f"the min-cost flow solver stopped with status {status}; the network is malformed")
        taken = best[np.asarray(graph.flows(arcs)) > 0]
        return np.sort(self.pairs[taken]), int(self.gain[taken].sum())

    def addressees(self, pairs: np.ndarray) -> dict[int, int]:
        """Return one therapist for every practice with several eligible therapists (the repair's choice).

        A practice in ``pairs`` keeps the therapist worth most to the searches it was given there (each at
        its value for that therapist); any other keeps the therapist worth most to all its eligible searches.
        """
        team = self.team()
        if not team:
            return {}
        width = len(self.problem.practice_capacity)
        given = np.unique(self.problem.search[pairs] * width + self.problem.practice[pairs])
        key = self.search * width + self.practice
        at = np.clip(np.searchsorted(given, key), 0, max(len(given) - 1, 0))
        in_given = (given[at] == key) if len(given) else np.zeros(len(key), dtype=bool)
        used = np.zeros(width, dtype=bool)
        used[self.problem.practice[pairs]] = True
        counts = np.where(used[self.practice], in_given, True)
        has_team = np.zeros(width, dtype=bool)
        has_team[list(team)] = True
        multi = has_team[self.practice] & counts
        span = self.therapist.max(initial=0) + 1
        keys, totals = np.unique(self.practice[multi] * span + self.therapist[multi], return_inverse=True)
        value = np.bincount(totals, weights=self.gain[multi].astype(float), minlength=len(keys))
        practice, therapist = np.divmod(keys, span)
        order = np.lexsort((therapist, -value, practice))  # per practice: most value, then lowest row
        first = order[np.r_[True, practice[order][1:] != practice[order][:-1]]] if len(order) else order
        return {int(practice[i]): int(therapist[i]) for i in first}


def _split_practices(problem: AssignmentProblem, pairs: np.ndarray) -> dict[int, dict[int, float]]:
    """Return {practice: {therapist: value}} for practices whose chosen pairs name several therapists."""
    practice, therapist, value = problem.practice[pairs], problem.therapist[pairs], problem.value[pairs]
    by_practice: dict[int, dict[int, float]] = {}
    for p, t, v in zip(practice.tolist(), therapist.tolist(), value.tolist(), strict=True):
        by_practice.setdefault(p, {}).setdefault(t, 0.0)
        by_practice[p][t] += v
    return {p: therapists for p, therapists in by_practice.items() if len(therapists) > 1}


def solve_exact(
    problem: AssignmentProblem,
    *,
    incumbent: np.ndarray | None = None,
    max_solves: int = MAX_SOLVES,
    max_branch_practices: int = MAX_BRANCH_PRACTICES,
) -> Assignment:
    """Return the assignment of greatest value (see the module docstring); ``incumbent`` is a feasible start."""
    network = _Network(problem)
    gains = problem.gains()
    root_pairs, root_gain = network.solve({})
    split = _split_practices(problem, root_pairs)
    if not split:
        return Assignment(root_pairs, problem.objective(root_pairs), problem.objective(root_pairs), True, 1, 0)
    best_pairs, best_gain = network.solve(network.addressees(root_pairs))
    if incumbent is not None and len(incumbent) and not violations(problem, incumbent):
        start = np.sort(np.asarray(incumbent, dtype=np.int64))
        if int(gains[start].sum()) > best_gain:
            best_pairs, best_gain = start, int(gains[start].sum())
    bound = root_gain
    if len(split) <= max_branch_practices:
        best_pairs, best_gain, bound = _branch(network, problem, root_gain, split, best_pairs, best_gain, max_solves)
    objective = problem.objective(best_pairs)
    proven = bound <= best_gain
    upper = objective if proven else objective + (bound - best_gain) / SCALE
    return Assignment(best_pairs, objective, upper, proven, network.solves, len(split))


def _branch(
    network: _Network,
    problem: AssignmentProblem,
    root_gain: int,
    root_split: dict[int, dict[int, float]],
    best_pairs: np.ndarray,
    best_gain: int,
    max_solves: int,
) -> tuple[np.ndarray, int, int]:
    """Best-first branch and bound over split practices; return (pairs, gain, upper bound)."""
    counter = itertools.count()
    team = network.team()
    heap: list[tuple[int, int, dict[int, int], dict[int, dict[int, float]]]] = [
        (-root_gain, next(counter), {}, root_split)
    ]
    while heap:
        negative_bound, _, fixed, split = heapq.heappop(heap)
        if -negative_bound <= best_gain:
            return best_pairs, best_gain, best_gain  # every open branch is worth at most the incumbent
        if network.solves >= max_solves:
            return best_pairs, best_gain, -negative_bound
        practice = max(split, key=lambda p: (sum(split[p].values()), -p))
        for therapist in team[practice].tolist():
            child = {**fixed, practice: therapist}
            child_pairs, child_gain = network.solve(child)
            if child_gain <= best_gain:
                continue
            child_split = _split_practices(problem, child_pairs)
            if not child_split:
                best_pairs, best_gain = child_pairs, child_gain
            else:
                heapq.heappush(heap, (-child_gain, next(counter), child, child_split))
    return best_pairs, best_gain, best_gain


# the greedy baseline ---------------------------------------------------------------------------------------


def solve_greedy(problem: AssignmentProblem) -> Assignment:
    """Return the baseline: oldest search first, each takes its nearest eligible therapists (same limits)."""
    order = np.lexsort(
        (problem.therapist, problem.distance_km, problem.search, problem.search_priority[problem.search])
    )
    searches = problem.search[order]
    starts = np.flatnonzero(np.r_[True, searches[1:] != searches[:-1]]) if len(order) else np.empty(0, dtype=int)
    ends = np.r_[starts[1:], len(order)].astype(int) if len(order) else np.empty(0, dtype=int)
    practice_therapist = problem.practice_therapist.copy()
    practice_load = np.zeros(len(problem.practice_capacity), dtype=np.int64)
    chosen = []
    therapist, practice, capacity = problem.therapist, problem.practice, problem.practice_capacity
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        need = int(problem.search_capacity[searches[start]])
        used: set[int] = set()
        for pair in order[start:end].tolist():
            if need <= 0:
                break
            p, t = int(practice[pair]), int(therapist[pair])
            if p in used or practice_load[p] >= capacity[p] or practice_therapist[p] not in (-1, t):
                continue
            chosen.append(pair)
            used.add(p)
            practice_therapist[p] = t
            practice_load[p] += 1
            need -= 1
    pairs = np.sort(np.asarray(chosen, dtype=np.int64))
    objective = problem.objective(pairs)
    return Assignment(pairs, objective, float("inf"), False)


def solve_value_greedy(problem: AssignmentProblem) -> Assignment:
    """Return the fair baseline: the most valuable pair first, under the same limits as every solver.

    It orders by the same value the optimisation maximises, so its gap to the exact assignment measures the
    optimisation (``solve_greedy`` orders by distance, the anchor's rule, and also measures the score).
    """
    # The pairs are visited in the order (-value, search, therapist), as a global sort would visit them, but
    # lazily: a heap holds each search's best pair not yet visited, so the pairs of a search that is full are
    # never visited at all (nationwide ~900,000 pairs, of which ~30,000 are taken).
    order = np.lexsort((problem.therapist, -problem.value, problem.search))  # by search, best first
    searches = problem.search[order]
    starts = np.searchsorted(searches, np.arange(len(problem.search_capacity) + 1))
    search_left = problem.search_capacity.tolist()
    practice_therapist = problem.practice_therapist.tolist()
    practice_left = problem.practice_capacity.tolist()
    taken: set[tuple[int, int]] = set()
    chosen = []
    values, practices, therapists = problem.value.tolist(), problem.practice.tolist(), problem.therapist.tolist()
    order_list, starts_list = order.tolist(), starts.tolist()
    heap = []
    for s in np.flatnonzero((problem.search_capacity > 0) & (starts[1:] > starts[:-1])).tolist():
        pair = order_list[starts_list[s]]
        heap.append((-values[pair], s, therapists[pair], starts_list[s]))
    heapq.heapify(heap)
    while heap:
        _, s, t, position = heapq.heappop(heap)
        pair = order_list[position]
        p = practices[pair]
        if practice_left[p] > 0 and practice_therapist[p] in (-1, t) and (s, p) not in taken:
            chosen.append(pair)
            taken.add((s, p))
            search_left[s] -= 1
            practice_left[p] -= 1
            practice_therapist[p] = t
        following = position + 1
        if search_left[s] > 0 and following < starts_list[s + 1]:
            pair = order_list[following]
            heapq.heappush(heap, (-values[pair], s, therapists[pair], following))
    pairs = np.sort(np.asarray(chosen, dtype=np.int64))
    return Assignment(pairs, problem.objective(pairs), float("inf"), False)


# exploration -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exploration:
    pairs: np.ndarray  # pair indices drawn for exploration, in drawing order
    probabilities: np.ndarray  # per drawn pair: the probability of that draw (see draw_exploration)


def draw_exploration(problem: AssignmentProblem, *, share: float, rng: np.random.Generator) -> Exploration:
    """Reserve about ``share`` of the slots for uniformly drawn eligible pairs, so training data is not biased.

    Each free slot of each search is an exploration slot with probability ``share`` (drawn independently).
    Searches are visited in random order; for an exploration slot one pair is drawn uniformly among the
    search's eligible pairs that still fit every constraint. The recorded selection probability of that
    pair is ``share / (number of pairs it was drawn from)``: the chance, given the state at the draw, that
    this slot explored and picked this pair. A slot with nothing left to draw returns to the optimiser.
    """
    capacity = problem.search_capacity
    explored_slots = rng.binomial(capacity, share) if share > 0 else np.zeros_like(capacity)
    practice_therapist = problem.practice_therapist.copy()
    practice_load = np.zeros(len(problem.practice_capacity), dtype=np.int64)
    taken = np.zeros(len(problem), dtype=bool)
    used: set[tuple[int, int]] = set()
    pairs, probabilities = [], []
    by_search = np.argsort(problem.search, kind="stable")
    bounds = np.searchsorted(problem.search[by_search], np.arange(len(capacity) + 1))
    for search in rng.permutation(np.flatnonzero(explored_slots > 0)).tolist():
        own = by_search[bounds[search] : bounds[search + 1]]
        for _ in range(int(explored_slots[search])):
            p, t = problem.practice[own], problem.therapist[own]
            fits = (
                ~taken[own]
                & (practice_load[p] < problem.practice_capacity[p])
                & ((practice_therapist[p] < 0) | (practice_therapist[p] == t))
                & np.fromiter(((search, int(x)) not in used for x in p), dtype=bool, count=len(own))
            )
            feasible = own[fits]
            if not len(feasible):
                break
            pair = int(feasible[rng.integers(len(feasible))])
            taken[pair] = True
            used.add((search, int(problem.practice[pair])))
            practice_therapist[problem.practice[pair]] = problem.therapist[pair]
            practice_load[problem.practice[pair]] += 1
            pairs.append(pair)
            probabilities.append(share / len(feasible))
    return Exploration(np.asarray(pairs, dtype=np.int64), np.asarray(probabilities, dtype=float))


def residual(problem: AssignmentProblem, chosen: np.ndarray) -> tuple[AssignmentProblem, np.ndarray]:
    """Return the problem left after ``chosen`` pairs are fixed, and its pairs' indices in ``problem``.

    The searches' and practices' capacities shrink, a practice with a chosen pair is fixed to that
    therapist, and a search cannot meet a practice it already has a chosen pair with.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    search_capacity = problem.search_capacity - np.bincount(
        problem.search[chosen], minlength=len(problem.search_capacity)
    )
    practice_capacity = problem.practice_capacity - np.bincount(
        problem.practice[chosen], minlength=len(problem.practice_capacity)
    )
    practice_therapist = problem.practice_therapist.copy()
    practice_therapist[problem.practice[chosen]] = problem.therapist[chosen]
    width = len(problem.practice_capacity)
    met = np.unique(problem.search[chosen] * width + problem.practice[chosen])
    keep = ~np.isin(problem.search * width + problem.practice, met)
    kept = np.flatnonzero(keep)
    smaller = replace(
        problem,
        search=problem.search[kept],
        therapist=problem.therapist[kept],
        practice=problem.practice[kept],
        value=problem.value[kept],
        distance_km=problem.distance_km[kept],
        search_capacity=search_capacity,
        practice_capacity=practice_capacity,
        practice_therapist=practice_therapist,
    )
    return smaller, kept
