"""The assignment as a mixed-integer programme (HiGHS through SciPy): the true bound, and the gap closed.

The flow of ``core.matching.assign`` relaxes "one therapist per practice"; where it splits many practices
its bound is loose and its branching is skipped. Here the rule is modelled exactly:

    maximise   sum value_i x_i
    subject to sum x_i over a search's pairs                <= its free capacity
               sum x_i over a practice's pairs              <= its inquiry size
               sum x_i over one search's pairs in a practice <= 1
               sum y_pt over a practice's therapists         <= 1      (one addressee)
               x_i <= y_p(i)t(i)                                       (only to the addressee)
               x, y binary

Only the connected parts of the problem (searches and practices linked by pairs) that contain a practice
with several eligible therapists need it: elsewhere the flow has no rule to relax and is optimal already.
``refine`` solves those parts within a time limit and keeps, per run, the better of the flow's assignment
and the MIP's; its bound is the MIP's dual bound (HiGHS proves it), so the reported gap is the true one.
SciPy's ``milp`` takes no start solution: the flow's assignment is the incumbent it must beat, not a hint.

Example:
    better = refine(problem, exact, seconds=10)
    better.objective, better.upper_bound, better.proven_optimal
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from core.matching.assign import Assignment, AssignmentProblem

GAP = 1e-4  # relative MIP gap HiGHS may stop at (0.01 %)


@dataclass(frozen=True)
class Model:
    """The MIP of some pairs of a problem: variables are those pairs' x, then one y per (practice, therapist)."""

    pairs: np.ndarray  # pair indices in the problem, one per x
    cost: np.ndarray  # minimised: minus each pair's value, 0 for each y
    matrix: sparse.csr_matrix
    upper: np.ndarray  # row upper bounds (rows have no lower bound)
    integral: np.ndarray


def _needs_mip(problem: AssignmentProblem) -> np.ndarray:
    """Return the pairs in parts of the problem that hold a practice with several eligible therapists."""
    pairs = _eligible(problem)
    searches, practices = len(problem.search_capacity), len(problem.practice_capacity)
    s, p = problem.search[pairs], problem.practice[pairs]
    graph = sparse.coo_matrix((np.ones(len(pairs)), (s, searches + p)), shape=(searches + practices,) * 2)
    _, part = connected_components(graph, directed=False)
    combos = np.unique(p * (problem.therapist.max(initial=0) + 1) + problem.therapist[pairs])
    team = np.bincount(combos // (problem.therapist.max(initial=0) + 1), minlength=practices)
    hard_parts = np.unique(part[searches + np.flatnonzero(team > 1)])
    return pairs[np.isin(part[searches + p], hard_parts)]


def build_model(problem: AssignmentProblem, pairs: np.ndarray) -> Model:
    """Return the MIP over ``pairs`` (see the module docstring)."""
    n = len(pairs)
    s, p, t = problem.search[pairs], problem.practice[pairs], problem.therapist[pairs]
    combo_keys, combo = np.unique(p * (problem.therapist.max(initial=0) + 1) + t, return_inverse=True)
    combo_practice = combo_keys // (problem.therapist.max(initial=0) + 1)
    m = len(combo_keys)
    rows, cols, vals, upper = [], [], [], []
    row = 0

    def group_rows(keys: np.ndarray, columns: np.ndarray, bound: np.ndarray | int) -> None:
        nonlocal row
        unique, inverse = np.unique(keys, return_inverse=True)
        rows.append(row + inverse)
        cols.append(columns)
        vals.append(np.ones(len(columns)))
        upper.append(np.broadcast_to(bound if np.isscalar(bound) else bound[unique], len(unique)).astype(float))
        row += len(unique)

    x = np.arange(n)
    group_rows(s, x, problem.search_capacity)
    group_rows(p, x, problem.practice_capacity)
    group_rows(s * len(problem.practice_capacity) + p, x, 1)
    group_rows(combo_practice, n + np.arange(m), 1)
    rows.append(row + x)  # x_i - y_combo(i) <= 0
    cols.append(x)
    vals.append(np.ones(n))
    rows.append(row + x)
    cols.append(n + combo)
    vals.append(-np.ones(n))
    upper.append(np.zeros(n))
    row += n
    matrix = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n + m))
    cost = np.concatenate([-problem.value[pairs], np.zeros(m)])
    return Model(pairs, cost, matrix, np.concatenate(upper), np.ones(n + m))


def _eligible(problem: AssignmentProblem) -> np.ndarray:
    fixed = problem.practice_therapist[problem.practice]
    return np.flatnonzero((fixed < 0) | (fixed == problem.therapist))


def _solve(model: Model, *, integral: bool, seconds: float) -> tuple[np.ndarray | None, float]:
    """Return (chosen pairs or None, proven bound on their part's value) of the MIP or its LP relaxation."""
    result = milp(
        model.cost,
        constraints=LinearConstraint(model.matrix, -np.inf, model.upper),
        integrality=model.integral if integral else np.zeros_like(model.integral),
        bounds=Bounds(0, 1),
        options={"time_limit": float(seconds), "mip_rel_gap": GAP, "disp": False},
    )
    dual = getattr(result, "mip_dual_bound", None) if integral else result.fun
    bound = -float(dual) if dual is not None and np.isfinite(dual) else np.inf
    if result.x is None:
        return None, bound
    x = result.x[: len(model.pairs)]
    if not integral and np.any(np.abs(x - np.rint(x)) > 1e-6):
        return None, bound  # a fractional vertex: only its value is used
    return model.pairs[x > 0.5], bound


def lp_bound(problem: AssignmentProblem) -> float:
    """Return the LP relaxation's value over the whole problem: no assignment is worth more."""
    pairs = _eligible(problem)
    if not len(pairs):
        return 0.0
    _, bound = _solve(build_model(problem, pairs), integral=False, seconds=600)
    return bound


def refine(problem: AssignmentProblem, assignment: Assignment, *, seconds: float) -> Assignment:
    """Return the better of ``assignment`` and a MIP solve (``seconds`` at most), with a proven upper bound.

    Parts without a practice of several eligible therapists are network problems: their LP is solved
    exactly (integral) and bounds them; the other parts get the MIP and its dual bound.
    """
    if seconds <= 0 or not len(problem):
        return assignment
    eligible = _eligible(problem)
    hard = _needs_mip(problem)
    easy = eligible[~np.isin(eligible, hard)]
    best, bound = [], 0.0
    for part, integral in ((easy, False), (hard, True)):
        if not len(part):
            continue
        mine = assignment.pairs[np.isin(assignment.pairs, part)]
        chosen, part_bound = _solve(build_model(problem, part), integral=integral, seconds=seconds)
        better = chosen is not None and problem.objective(chosen) > problem.objective(mine)
        best.append(chosen if better else mine)
        bound += part_bound
    pairs = np.sort(np.concatenate(best)) if best else assignment.pairs
    objective = problem.objective(pairs)
    upper = max(min(assignment.upper_bound, bound), objective)
    proven = upper - objective <= 1e-6 * max(objective, 1.0)  # the solvers' own tolerances
    return Assignment(pairs, objective, upper, proven, assignment.solves, assignment.split_practices)
