"""Simulate placements day by day: ``python -m jobs.simulate --policy POLICY [--world MODULE:FACTORY] --days N``.

Runs the production matching pipeline against a synthetic world (default: the demo data's response model)
and reports placements within 30/60/90 days, the median days to placement, inquiries, reminders and calls
per placement, practices contacted beyond their limits (must be 0) and placement rates by age band and
region. Reads and writes no database. Options: ``--seed S``, ``--therapists N`` (default 2000),
``--searches-per-week N`` (default 80), ``--train-after DAYS`` (exact-learned: first training day, default
60), ``--json``. Policies: greedy, exact-prior, exact-learned (see core.simulation.policies).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.simulation import DEFAULT_WORLD, SimulationConfig, simulate
from core.simulation.policies import POLICIES
from core.simulation.world import load_world
from jobs.cli import main_guard


def summary(report: dict[str, Any]) -> str:
    """Return the human summary of a simulation report."""
    within = report["placed_within"]
    per = report["per_placement"]
    median = report["median_days_to_placement"]
    lines = [
        f"simulation: {report['policy']}, seed {report['seed']}, {report['days']} days, "
        f"{report['therapists']:,} therapists, {report['searches_per_week']:g} new searches a week",
        f"  searches            {report['searches']:>8,}  placed {report['placements']:,}, "
        f"gave up {report['given_up']:,}",
        *[
            f"  placed within {k:>2} d   {within[k]['placed']:>8,}  of {within[k]['searches']:,} "
            + (f"({within[k]['rate'] * 100:.1f} %)" if within[k]["rate"] is not None else f"(no search watched {k} d)")
            for k in ("30", "60", "90")
        ],
        f"  median days         {'n/a' if median is None else f'{median:>8.0f}'}",
        f"  inquiries           {report['inquiries']:>8,}  {per['inquiries'] or 0:.2f} per placement",
        f"  reminders           {report['reminders']:>8,}  {per['reminders'] or 0:.2f} per placement",
        f"  calls               {report['calls']:>8,}  {per['calls'] or 0:.2f} per placement",
        f"  beyond limits       {report['beyond_limits']['practices']:>8,}  practices (must be 0)",
        "  by age band         "
        + (
            ", ".join(f"{band} {(g['rate'] or 0) * 100:.0f} %" for band, g in report["by_age_band"].items())
            or "n/a (no search watched 30 days)"
        ),
        f"  seconds             {report['seconds_total']:>8.1f}  ({report['seconds_per_day']:.3f} per day)",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", required=True, choices=POLICIES, help="matching policy")
    parser.add_argument("--world", default=DEFAULT_WORLD, help=f"MODULE:FACTORY of the world (default {DEFAULT_WORLD})")
    parser.add_argument("--days", type=int, required=True, help="simulated days, e.g. 180")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw, e.g. 7")
    parser.add_argument("--therapists", type=int, default=2000, help="therapists in the world (default 2000)")
    parser.add_argument("--searches-per-week", type=float, default=80.0, help="new searches a week (default 80)")
    parser.add_argument("--train-after", type=int, default=60, help="exact-learned: first training day (60)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if args.seed < 0:
        parser.error(f"--seed {args.seed} must be 0 or more, e.g. --seed 7")
    config = SimulationConfig(
        policy=args.policy,
        days=args.days,
        seed=args.seed,
        therapists=args.therapists,
        searches_per_week=args.searches_per_week,
        train_after=args.train_after,
    )
    result = simulate(config, world=load_world(args.world))
    print(json.dumps(result.report, default=str) if args.json else summary(result.report))
    return 0


if __name__ == "__main__":
    main_guard(main)
