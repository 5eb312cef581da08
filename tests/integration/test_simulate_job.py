"""``python -m jobs.simulate`` as a user runs it: a world from a test module, the learned policy, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

SMALL = ["--therapists", "80", "--searches-per-week", "12"]  # the command, smaller for a shared 2-core box


def simulate(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.simulate", *args],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


def test_simulate__exact_learned_in_a_test_world_trains_inside_the_run(repo_root):
    world = "tests.support.worlds:capacity_world"
    result = simulate(
        repo_root, "--policy", "exact-learned", "--world", world, "--days", "180", "--train-after", "60",
        "--seed", "4", *SMALL, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["policy"] == "exact-learned"
    assert report["days"] == 180
    assert report["placements"] > 0
    assert report["beyond_limits"]["practices"] == 0
    trainings = report["trainings"]
    assert trainings[0]["day"] == 60  # the first training on day 60, then weekly
    assert [t["day"] for t in trainings] == list(range(60, 180, 7))
    assert trainings[-1]["model"] == "learned"  # enough offers by then: the learned model proposes
    assert trainings[-1]["penalty"] > 0  # chosen by cross-validation on the run's own answers, reported
    assert set(report["placed_within"]) == {"30", "60", "90"}


def test_simulate__prints_a_readable_summary(repo_root):
    result = simulate(repo_root, "--policy", "greedy", "--days", "14", *SMALL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "simulation: greedy, seed 0, 14 days, 80 therapists" in result.stdout
    assert "beyond limits              0  practices (must be 0)" in result.stdout


def test_simulate__a_bad_world_name_is_one_clear_line(repo_root):
    result = simulate(repo_root, "--policy", "greedy", "--days", "7", "--world", "tests.support.worlds:nothing")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: World module 'tests.support.worlds' has no callable 'nothing'; name a class or function there "
        "that returns a world"
    ]


def test_simulate__an_unknown_policy_lists_the_known_ones(repo_root):
    result = simulate(repo_root, "--policy", "best", "--days", "7")
    assert result.returncode == 2
    assert "argument --policy: invalid choice: 'best'" in result.stderr
    assert "greedy" in result.stderr
    assert "exact-learned" in result.stderr


def test_simulate__a_day_count_below_one_is_refused(repo_root):
    result = simulate(repo_root, "--policy", "greedy", "--days", "0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: --days is 0; give at least 1"]
