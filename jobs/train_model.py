"""Train and evaluate the match model: ``python -m jobs.train_model [--since DATE] [--dry-run] [--json]``.

Reads the answered inquiry items with the features stored at proposal time, trains on the older ones,
evaluates on the newest against the prior (ROC AUC, log loss, Brier, calibration by decile, off-policy
offers on exploration items), and registers a new version: an artifact under DATA_DIR/models/ plus a
``match_model`` row. Nothing is activated: an admin does that on the model page. With too little data it
says so and the prior stays. Runs through the job runner like the weekly scheduled job.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.models_registry import service
from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def summary(counts: dict[str, Any]) -> str:
    """Return the human summary of a training run."""
    if counts.get("status") == "too_little_data":
        return f"too little data to train: {counts['reason']}"
    written = "would register" if counts["dry_run"] else "registered"
    auc, prior_auc = (f"{v:.3f}" if v is not None else "-" for v in (counts["roc_auc"], counts["prior_roc_auc"]))
    lines = [
        f"{written} {counts['model']} ({counts['train_rows']:,} training rows, {counts['test_rows']:,} held out)",
        f"  log loss   {counts['log_loss']:.4f}  (prior {counts['prior_log_loss']:.4f})",
        f"  ROC AUC    {auc}  (prior {prior_auc})",
        f"  fit        {counts['fit_seconds']:.1f} s",
        "activate it on the model page (Admin -> Modelle) if it should score",
    ]
    if counts["dry_run"]:
        lines.append("dry run: nothing was written")
    return "\n".join(lines)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-01-01") from None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.train_model", description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=_day, help="only items proposed on or after this day, e.g. 2026-01-01")
    parser.add_argument("--dry-run", action="store_true", help="train and evaluate, write nothing")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON instead of a summary")
    args = parser.parse_args()
    result: dict[str, Any] = {}

    def train(session: Session, *, now: datetime, dry_run: bool) -> dict[str, Any]:
        if args.since is not None and args.since > now.date():
            raise ValidationError(f"--since {args.since} lies in the future; give a past day", field="since")
        result.update(service.train(session, now=now, dry_run=dry_run, since=args.since))
        return result

    run = run_by_hand("train_model", dry_run=args.dry_run, function=train)
    if run.status.value != "succeeded":
        if args.json:
            print(run_json(run))
        return exit_code(run)
    print(json.dumps(result, default=str) if args.json else summary(result))
    return 0


if __name__ == "__main__":
    main_guard(main)
