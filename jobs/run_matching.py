"""Propose inquiries for every waiting patient: ``python -m jobs.run_matching [--dry-run] [--region NN] [--json]``.

Loads the active searches and therapists, finds candidates, applies the hard filters, scores the pairs and
assigns them optimally, then stores the result as proposals for staff to review. Re-running replaces only
the proposals nobody has reviewed yet; ``--dry-run`` computes everything and writes nothing. Progress goes
to stderr, the summary (or ``--json``) to stdout. ``--seed N`` fixes the random exploration draws. Runs
through the job runner like the scheduled job: recorded in ``job_run``, skipped while it runs elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.matching import service
from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def summary(counts: dict[str, Any]) -> str:
    """Return the human summary of a run's counts."""
    best, greedy = counts.get("objective_optimised") or 0.0, counts.get("objective_value_greedy") or 0.0
    gain = f" (+{(best / greedy - 1) * 100:.2f} %)" if greedy else ""
    bound = counts.get("upper_bound") or 0.0
    gap = f"within {(bound / best - 1) * 100:.2f} % of the bound" if best and bound > best else "no bound"
    optimal = "proven optimal" if counts.get("proven_optimal") else f"not proven optimal, {gap}"
    stored = "would store" if counts["dry_run"] else "stored"
    replaced = "would replace" if counts["dry_run"] else "replaced"
    lines = [
        f"matching run {counts['run_id']}" + (f" (region {counts['region']})" if counts.get("region") else ""),
        f"  searches          {counts.get('searches', 0):>8,}  ({counts.get('searches_with_capacity', 0):,} may get "
        f"a new inquiry, {counts.get('searches_without_location', 0):,} without location)",
        f"  therapists        {counts.get('therapists', 0):>8,}  in {counts.get('practices', 0):,} practices",
        f"  candidate pairs   {counts.get('candidates', 0):>8,}",
        f"  passing pairs     {counts.get('pairs_passing', 0):>8,}",
        f"  inquiries         {counts['inquiries']:>8,}  {stored}, "
        f"{replaced} {counts['replaced']:,} unreviewed proposals",
        f"  items             {counts['items']:>8,}  of them {counts['exploration_items']:,} for exploration",
        f"  objective         optimised {best:.2f} vs value-ordered greedy {greedy:.2f}{gain}, {optimal}",
        f"  seconds           {counts['seconds']:>8.2f}",
    ]
    if counts["dry_run"]:
        lines.append("dry run: nothing was written")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="compute the proposals, write nothing")
    parser.add_argument("--region", help="only patients whose PLZ starts with these two digits, e.g. 10")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON instead of a summary")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random exploration draws, e.g. 7")
    args = parser.parse_args()
    try:
        region = service.clean_region(args.region)
    except ValidationError as exc:
        parser.error(str(exc))  # exit 2, like every other bad option
    if args.seed is not None and args.seed < 0:  # numpy accepts only non-negative seeds
        raise ValidationError(f"--seed {args.seed} must be 0 or more, e.g. --seed 7", field="seed")
    result: dict[str, Any] = {}

    def propose(session: Session, *, now: datetime, dry_run: bool) -> dict[str, Any]:
        result.update(
            service.scheduled_run(
                session,
                now=now,
                dry_run=dry_run,
                region=region,
                seed=args.seed,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        )
        return result

    run = run_by_hand("run_matching", dry_run=args.dry_run, function=propose)
    if run.status.value != "succeeded":
        if args.json:
            print(run_json(run))
        return exit_code(run)
    print(json.dumps(result, default=str) if args.json else summary(result))
    return 0


if __name__ == "__main__":
    main_guard(main)
