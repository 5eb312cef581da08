"""The placement simulator runs the production pipeline, keeps the contact limits, and checks its world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.matching import filters, pipeline
from core.simulation import SimulationConfig, simulate
from core.simulation.audit import ContactLog
from core.simulation.demo_world import DemoWorld
from core.simulation.world import ITEM_COLUMNS, WorldError, load_world, validate_answers
from tests.support.worlds import BrokenWorld, CapacityWorld

SMALL = {"therapists": 150, "searches_per_week": 20.0}  # one town, so that patients and practices meet


def run(policy: str = "exact-prior", *, days: int = 35, seed: int = 3, world=None):
    return simulate(SimulationConfig(policy=policy, days=days, seed=seed, **SMALL), world=world or DemoWorld())


def test_simulation__a_changed_filter_changes_what_is_sent(monkeypatch):
    before = run().report
    assert before["inquiries"] > 0
    assert before["placements"] > 0

    # the procedure rule of core.matching.filters now rejects every therapist: nothing may be proposed
    def nobody_offers_the_procedure(therapist_mask, age_mask, wish_mask, setting_mask):
        fail = np.ones(len(therapist_mask), dtype=bool)
        return ~fail, fail, ~fail

    monkeypatch.setattr(filters, "procedure_failures", nobody_offers_the_procedure)
    after = run().report
    assert (after["inquiries"], after["placements"]) == (0, 0)
    assert after["searches"] == before["searches"]  # the same patients arrived


@pytest.mark.parametrize("policy", ["greedy", "exact-prior"])
def test_simulation__never_contacts_a_practice_beyond_its_limits(policy):
    # many patients for few practices: the limits bind every day
    result = simulate(
        SimulationConfig(policy=policy, days=50, seed=5, therapists=60, searches_per_week=40.0), world=DemoWorld()
    )
    report = result.report
    assert report["inquiries"] > 20
    assert report["beyond_limits"] == {"practices": 0, "sends": 0, "by_rule": {}}
    assert report["refused_at_approval"] == 0
    sends = result.items.groupby("inquiry_id")[["practice_id", "day"]].first()
    per_practice_month = sends.groupby("practice_id")["day"].apply(
        lambda days: max(((days >= d - 30) & (days <= d)).sum() for d in days)
    )
    assert per_practice_month.max() <= 2  # MATCH_MONTHLY_CAP, counted here without the simulator's audit


def test_simulation__the_approval_check_refuses_what_a_broken_cooldown_filter_lets_through(monkeypatch):
    real_evaluate = pipeline.evaluate

    def without_cooldown(*args, **kwargs):
        result = real_evaluate(*args, **kwargs)
        failed = dict(result.failed)
        failed["cooldown"] = np.zeros_like(failed["cooldown"])
        passed = ~np.logical_or.reduce(list(failed.values())) if len(failed["cooldown"]) else result.passed
        return filters.FilterResult(failed=failed, passed=passed)

    monkeypatch.setattr(pipeline, "evaluate", without_cooldown)
    report = simulate(
        SimulationConfig(policy="exact-prior", days=50, seed=5, therapists=60, searches_per_week=40.0),
        world=DemoWorld(),
    ).report
    assert report["refused_at_approval"] > 0  # the pipeline proposed practices in cooldown ...
    assert report["beyond_limits"]["practices"] == 0  # ... and none of them was contacted


def test_contact_audit__counts_every_kind_of_limit_break():
    log = ContactLog(cooldown_days=28, monthly_cap=2, max_parallel=1)
    log.sent(1, 1, 0, [10])
    log.sent(1, 2, 1, [11])  # practice 1 still has inquiry 1 open
    log.inquiry_closed(1, 1)
    log.inquiry_closed(1, 2)
    log.answered(1, 2)
    log.sent(1, 3, 20, [12])  # cooldown until day 30; also the third inquiry in 30 days
    log.sent(2, 4, 20, [10])  # search 10 already waits for one answer (limit 1)
    assert sorted((v.inquiry_id, v.rule) for v in log.violations) == [
        (2, "open_inquiry"),
        (3, "cooldown"),
        (3, "monthly_cap"),
        (4, "parallel_per_search"),
    ]
    assert log.practices_beyond_limits == 2


def test_simulation__policies_see_the_same_patients_and_differ_in_what_they_send():
    greedy, exact = run("greedy", days=28), run("exact-prior", days=28)
    assert greedy.searches[["search_id", "started_day", "age_band"]].equals(
        exact.searches[["search_id", "started_day", "age_band"]]
    )
    assert greedy.report["inquiries"] > 0
    assert exact.report["inquiries"] > 0
    assert not greedy.items[["search_id", "therapist_id"]].equals(exact.items[["search_id", "therapist_id"]])
    assert not greedy.items["is_exploration"].any()  # the anchor explores nothing


def test_simulation__the_same_seed_gives_the_same_report():
    first, second = run(days=21, seed=9).report, run(days=21, seed=9).report
    for timing in ("seconds_per_day", "seconds_total"):
        first.pop(timing), second.pop(timing)
    assert first == second


def test_simulation__a_world_of_its_own_is_used_through_the_interface():
    report = run(days=42, world=CapacityWorld()).report
    assert report["placements"] > 0
    assert set(report["by_age_band"]) <= {"<18", "18-29", "30-44", "45-64", "65+"}


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("early", "before it was sent on day"),
        ("outcome", "outcome 'maybe'; use one of offered, declined_capacity"),
        ("length", "return exactly one row per item"),
        ("columns", "lacks the column(s) answer_day"),
    ],
)
def test_simulation__a_world_answering_against_the_interface_stops_with_a_clear_error(fault, message):
    with pytest.raises(WorldError, match="The world") as error:
        run(days=7, world=BrokenWorld(fault))
    assert message in str(error.value)


def items(n: int = 2, day: int = 4) -> pd.DataFrame:
    frame = pd.DataFrame({column: [0] * n for column in ITEM_COLUMNS})
    frame["day"], frame["inquiry_id"], frame["search_id"] = day, 7, range(1, n + 1)
    return frame


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([("yes", 5, "offered")] * 2, "'answered' holds 'yes'; use True or False"),
        ([(False, -1, "offered"), (False, -1, None)], "outcome 'offered' but answered=False"),
        ([(True, 4.5, "offered"), (False, -1, None)], "give a whole day number"),
        ([(True, None, "offered"), (False, -1, None)], "give a whole day number"),
    ],
)
def test_validate_answers__names_the_item_and_the_value(answers, message):
    frame = pd.DataFrame(answers, columns=["answered", "answer_day", "outcome"])
    with pytest.raises(WorldError) as error:
        validate_answers(frame, items())
    assert message in str(error.value)
    assert "(inquiry 7, search" in str(error.value) or "'answered'" in str(error.value)


def test_validate_answers__accepts_a_good_answer_and_aligns_it_with_the_items():
    good = pd.DataFrame({"answered": [True, False], "answer_day": [4, None], "outcome": ["declined_other", None]})
    checked = validate_answers(good, items().set_axis([10, 11]))
    assert checked.index.tolist() == [10, 11]
    assert checked["answer_day"].tolist() == [4, -1]
    assert checked["outcome"].tolist() == ["declined_other", None]
    with pytest.raises(WorldError, match="pandas DataFrame"):
        validate_answers([{"answered": True}], items())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "must be MODULE:FACTORY"),
        ("tests.support.no_such_module:world", "cannot be imported"),
        ("tests.support.worlds:no_such_factory", "has no callable 'no_such_factory'"),
        ("tests.support.worlds:pd", "has no callable 'pd'"),
        ("collections:OrderedDict", "lacks start and respond"),
    ],
)
def test_load_world__explains_a_bad_world_name(spec, message):
    with pytest.raises(WorldError) as error:
        load_world(spec)
    assert message in str(error.value)


def test_load_world__builds_the_named_world():
    assert isinstance(load_world("tests.support.worlds:capacity_world"), CapacityWorld)
    assert isinstance(load_world("core.simulation.demo_world:DemoWorld"), DemoWorld)
