"""Assignment: the min-cost flow (with branching over split practices) is optimal, limits always hold, exploration."""

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.matching.assign import (
    SCALE,
    AssignmentProblem,
    draw_exploration,
    residual,
    solve_exact,
    solve_greedy,
    solve_value_greedy,
    violations,
)
from core.matching.assign_mip import lp_bound, refine
from core.matching.pipeline import run_pipeline
from core.matching.score import first_offer_share
from tests.support.match_snapshots import (
    NOW,
    SETTINGS,
    TODAY,
    north_of_berlin,
    search_row,
    snapshot,
    therapist_row,
)


def random_problem(rng: np.random.Generator, *, searches=4, practices=4, max_team=2, density=0.6, size=None):
    """A random instance: practices of 1..max_team therapists, random eligible pairs, values and capacities."""
    team = rng.integers(1, max_team + 1, practices)
    practice_of = np.repeat(np.arange(practices), team)
    pairs = [(s, t) for s in range(searches) for t in range(len(practice_of)) if rng.random() < density]
    s = np.array([p[0] for p in pairs], dtype=np.int64)
    t = np.array([p[1] for p in pairs], dtype=np.int64)
    return AssignmentProblem.build(
        search=s,
        therapist=t,
        practice=practice_of[t],
        value=rng.uniform(0.01, 1.0, len(pairs)).round(4),
        distance_km=rng.uniform(0, 20, len(pairs)),
        search_capacity=rng.integers(0, 4, searches),
        practices=practices,
        inquiry_size=int(size if size is not None else rng.integers(1, 4)),
        search_priority=rng.permutation(searches).astype(float),
    )


def exhaustive_best(problem: AssignmentProblem) -> int:
    """Return the largest total integer gain of any feasible choice, by trying every subset (depth first)."""
    gains = problem.gains()
    search_load = np.zeros(len(problem.search_capacity), dtype=int)
    practice_load = np.zeros(len(problem.practice_capacity), dtype=int)
    addressee = problem.practice_therapist.copy()
    met: set[tuple[int, int]] = set()
    best = 0

    def visit(i: int, total: int) -> None:
        nonlocal best
        if i == len(problem):
            best = max(best, total)
            return
        visit(i + 1, total)
        s, t, p = int(problem.search[i]), int(problem.therapist[i]), int(problem.practice[i])
        if (
            search_load[s] < problem.search_capacity[s]
            and practice_load[p] < problem.practice_capacity[p]
            and addressee[p] in (-1, t)
            and (s, p) not in met
        ):
            before = addressee[p]
            search_load[s] += 1
            practice_load[p] += 1
            addressee[p] = t
            met.add((s, p))
            visit(i + 1, total + int(gains[i]))
            met.discard((s, p))
            addressee[p] = before
            practice_load[p] -= 1
            search_load[s] -= 1

    visit(0, 0)
    return best


@pytest.mark.parametrize("seed", range(60))
def test_solve_exact__equals_the_exhaustive_optimum_on_small_instances(seed):
    problem = random_problem(np.random.default_rng(seed), max_team=1 + seed % 3)  # 1, 2 or 3 therapists a practice
    best = solve_exact(problem)
    assert violations(problem, best.pairs) == []
    assert best.proven_optimal
    assert int(problem.gains()[best.pairs].sum()) == exhaustive_best(problem)
    assert best.upper_bound == pytest.approx(best.objective)


def test_solve_exact__single_therapist_practices_need_one_flow():
    problem = random_problem(np.random.default_rng(3), searches=6, practices=6, max_team=1)
    best = solve_exact(problem)
    assert (best.solves, best.split_practices, best.proven_optimal) == (1, 0, True)


def split_instance() -> AssignmentProblem:
    # Practice 0 has therapists 0 and 1; search 0 fits only therapist 0, search 1 only therapist 1 (or practice 1).
    # The flow asks both therapists of practice 0 (2.0); allowed are {0->t0, 1->t2} = 1.5 or {1->t1} = 1.0.
    return AssignmentProblem.build(
        search=np.array([0, 1, 1]),
        therapist=np.array([0, 1, 2]),
        practice=np.array([0, 0, 1]),
        value=np.array([1.0, 1.0, 0.5]),
        distance_km=np.array([1.0, 1.0, 5.0]),
        search_capacity=np.array([1, 1]),
        practices=2,
        inquiry_size=6,
    )


def test_solve_exact__a_practice_gets_one_addressee_even_when_the_flow_splits_it():
    best = solve_exact(split_instance())
    assert best.pairs.tolist() == [0, 2]
    assert (best.objective, best.proven_optimal, best.split_practices) == (1.5, True, 1)


def test_solve_exact__an_exhausted_budget_reports_the_bound():
    problem = random_problem(np.random.default_rng(11), searches=12, practices=5, max_team=4, density=0.8, size=3)
    best = solve_exact(problem, max_solves=1)
    assert violations(problem, best.pairs) == []
    assert best.upper_bound >= best.objective
    if not best.proven_optimal:
        assert best.upper_bound > best.objective


def test_solve_exact__costs_are_integers_in_micro_placements():
    problem = split_instance()
    assert problem.gains().tolist() == [SCALE, SCALE, SCALE // 2]


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    return random_problem(
        np.random.default_rng(seed),
        searches=draw(st.integers(1, 8)),
        practices=draw(st.integers(1, 6)),
        max_team=draw(st.integers(1, 3)),
        density=draw(st.floats(0.1, 0.9)),
        size=draw(st.integers(1, 4)),
    )


@settings(max_examples=150, deadline=None)
@given(problem=problems(), seed=st.integers(0, 1000), share=st.sampled_from([0.0, 0.3, 1.0]))
def test_assign__capacities_are_never_violated(problem, seed, share):
    explored = draw_exploration(problem, share=share, rng=np.random.default_rng(seed))
    rest, rest_pairs = residual(problem, explored.pairs)
    greedy = solve_greedy(rest)
    exact = solve_exact(rest, incumbent=greedy.pairs)
    assert violations(problem, explored.pairs) == []
    assert violations(rest, greedy.pairs) == []
    assert violations(rest, exact.pairs) == []
    assert violations(problem, np.concatenate([explored.pairs, rest_pairs[exact.pairs]])) == []
    assert violations(problem, np.concatenate([explored.pairs, rest_pairs[greedy.pairs]])) == []


@settings(max_examples=150, deadline=None)
@given(problem=problems())
def test_assign__optimum_is_never_below_the_greedy_baseline(problem):
    greedy = solve_greedy(problem)
    exact = solve_exact(problem)
    assert exact.objective >= greedy.objective - len(problem) / SCALE  # rounding of each value: under 1e-6
    assert exact.upper_bound >= exact.objective


def test_greedy__oldest_search_first_takes_the_nearest_therapist():
    problem = AssignmentProblem.build(
        search=np.array([0, 0, 1]),
        therapist=np.array([0, 1, 0]),
        practice=np.array([0, 1, 0]),
        value=np.array([0.1, 0.9, 0.9]),
        distance_km=np.array([1.0, 3.0, 0.5]),
        search_capacity=np.array([1, 1]),
        practices=2,
        inquiry_size=1,
        search_priority=np.array([10.0, 20.0]),  # search 0 started first
    )
    assert solve_greedy(problem).pairs.tolist() == [0]  # search 0 takes practice 0; search 1 finds it full
    assert solve_exact(problem).pairs.tolist() == [1, 2]  # the optimum sends each where it is worth most


def test_exploration__no_share_no_draws():
    problem = random_problem(np.random.default_rng(1))
    assert len(draw_exploration(problem, share=0.0, rng=np.random.default_rng(1)).pairs) == 0


def test_exploration__draws_uniformly_and_records_the_probability():
    # one search, one slot, four eligible practices: every pair has the same chance
    problem = AssignmentProblem.build(
        search=np.zeros(4, dtype=int), therapist=np.arange(4), practice=np.arange(4),
        value=np.array([0.9, 0.1, 0.1, 0.1]), distance_km=np.ones(4), search_capacity=np.array([1]), practices=4,
        inquiry_size=6,
    )  # fmt: skip
    counts = np.zeros(4, dtype=int)
    rng = np.random.default_rng(42)
    for _ in range(4000):
        drawn = draw_exploration(problem, share=1.0, rng=rng)
        assert drawn.probabilities.tolist() == [0.25]
        counts[drawn.pairs[0]] += 1
    assert np.all(np.abs(counts - 1000) < 120)  # about 4 standard deviations


def test_exploration__takes_about_its_share_of_the_slots():
    rng = np.random.default_rng(0)
    searches = 1000
    problem = AssignmentProblem.build(
        search=np.repeat(np.arange(searches), 5), therapist=np.arange(5 * searches), practice=np.arange(5 * searches),
        value=rng.uniform(size=5 * searches), distance_km=np.ones(5 * searches),
        search_capacity=np.full(searches, 3), practices=5 * searches, inquiry_size=6,
    )  # fmt: skip
    drawn = draw_exploration(problem, share=0.1, rng=np.random.default_rng(7))
    assert 240 <= len(drawn.pairs) <= 360  # 10 % of 3,000 slots, within 3.5 standard deviations
    assert set(np.round(drawn.probabilities, 6)) <= {round(0.1 / 5, 6), round(0.1 / 4, 6), round(0.1 / 3, 6)}


def test_exploration__same_seed_same_draws():
    problem = random_problem(np.random.default_rng(5), searches=8, practices=6)
    first = draw_exploration(problem, share=0.5, rng=np.random.default_rng(9))
    second = draw_exploration(problem, share=0.5, rng=np.random.default_rng(9))
    assert first.pairs.tolist() == second.pairs.tolist()


def pipeline_snapshot():
    searches = [search_row(search_id=i) for i in range(1, 4)]
    therapists = [
        therapist_row(therapist_id=j, practice_id=j, latitude=north_of_berlin(j)[0], longitude=north_of_berlin(j)[1])
        for j in range(1, 6)
    ]
    return snapshot(searches, therapists, [{"practice_key": j} for j in range(1, 6)])


def share(value: float):
    return SETTINGS.model_copy(update={"match_exploration_share": value})


def test_pipeline__exploration_items_are_marked_with_their_probability():
    explored = run_pipeline(pipeline_snapshot(), now=NOW, settings=share(1.0), rng=np.random.default_rng(1))
    items = [item for inquiry in explored.inquiries for item in inquiry.items]
    assert len(items) == 9  # three searches, three slots each, five practices of up to six
    assert all(item.is_exploration for item in items)
    assert all(0 < item.selection_probability <= 1 for item in items)
    assert explored.stats["exploration_items"] == 9
    optimised = run_pipeline(pipeline_snapshot(), now=NOW, settings=share(0.0), rng=np.random.default_rng(1))
    items = [item for inquiry in optimised.inquiries for item in inquiry.items]
    assert len(items) == 9
    assert not any(item.is_exploration for item in items)
    assert all(item.selection_probability is None for item in items)


@settings(max_examples=150, deadline=None)
@given(problem=problems())
def test_value_greedy__keeps_every_limit_and_never_beats_the_optimum(problem):
    greedy = solve_value_greedy(problem)
    assert violations(problem, greedy.pairs) == []
    assert solve_exact(problem).objective >= greedy.objective - len(problem) / SCALE


def test_value_greedy__the_most_valuable_pair_goes_first():
    problem = AssignmentProblem.build(
        search=np.array([0, 0, 1]),
        therapist=np.array([0, 1, 0]),
        practice=np.array([0, 1, 0]),
        value=np.array([0.1, 0.9, 0.9]),
        distance_km=np.array([1.0, 3.0, 0.5]),
        search_capacity=np.array([1, 1]),
        practices=2,
        inquiry_size=1,
        search_priority=np.array([10.0, 20.0]),
    )
    assert solve_value_greedy(problem).pairs.tolist() == [1, 2]  # the nearest-first rule took only pair 0


def value_greedy_by_definition(problem: AssignmentProblem) -> list[int]:
    """The value greedy as specified: visit every pair by (-value, search, therapist) and keep what fits."""
    search_left = problem.search_capacity.copy()
    practice_left = problem.practice_capacity.copy()
    addressee = problem.practice_therapist.copy()
    met, chosen = set(), []
    for pair in np.lexsort((problem.therapist, problem.search, -problem.value)).tolist():
        s, p, t = int(problem.search[pair]), int(problem.practice[pair]), int(problem.therapist[pair])
        if search_left[s] > 0 and practice_left[p] > 0 and addressee[p] in (-1, t) and (s, p) not in met:
            chosen.append(pair)
            met.add((s, p))
            search_left[s], practice_left[p], addressee[p] = search_left[s] - 1, practice_left[p] - 1, t
    return sorted(chosen)


@pytest.mark.parametrize("seed", range(40))
def test_value_greedy__takes_exactly_the_pairs_of_the_global_value_order(seed):
    rng = np.random.default_rng(seed)
    problem = random_problem(rng, searches=12, practices=8, max_team=3, density=0.5)
    if seed % 2:  # equal values: the order between them is search, then therapist
        problem = AssignmentProblem.build(
            search=problem.search, therapist=problem.therapist, practice=problem.practice,
            value=np.round(problem.value, 1), distance_km=problem.distance_km,
            search_capacity=problem.search_capacity, practices=len(problem.practice_capacity), inquiry_size=2,
        )  # fmt: skip
    assert solve_value_greedy(problem).pairs.tolist() == value_greedy_by_definition(problem)


@pytest.mark.parametrize("seed", range(40))
def test_refine__the_mip_reaches_the_exhaustive_optimum_and_proves_it(seed):
    problem = random_problem(np.random.default_rng(seed), searches=5, practices=4, max_team=3)
    start = solve_value_greedy(problem)
    refined = refine(problem, start, seconds=30)
    assert violations(problem, refined.pairs) == []
    assert int(problem.gains()[refined.pairs].sum()) == pytest.approx(exhaustive_best(problem), abs=len(problem))
    assert refined.proven_optimal
    assert lp_bound(problem) >= refined.objective - 1e-9


def test_pipeline__a_search_without_open_items_gets_the_one_place_before_one_with_two_pending():
    # one practice, one patient per inquiry; the older search already waits for answers from two practices,
    # the other has none. First acceptance wins, so the next inquiry helps the second search more.
    one_each = SETTINGS.model_copy(update={"match_exploration_share": 0.0, "match_inquiry_max_size": 1})
    searches = [
        search_row(search_id=1, patient_id=1, open_items=2, started_on=TODAY - timedelta(weeks=11)),
        search_row(search_id=2, patient_id=2, open_items=0, max_parallel=1, started_on=TODAY - timedelta(weeks=10)),
    ]
    taking = therapist_row(accepting_patients=True, accepting_confirmed_on=TODAY - timedelta(days=5))
    result = run_pipeline(snapshot(searches, [taking]), now=NOW, settings=one_each, rng=np.random.default_rng(1))
    assert [item.search_id for inquiry in result.inquiries for item in inquiry.items] == [2]


def test_first_offer_share__open_items_make_one_more_item_worth_less():
    assert first_offer_share(np.array([0, 1, 2]), np.array([0.1, 0.1, 0.1])).round(4).tolist() == [1.0, 0.9, 0.81]
