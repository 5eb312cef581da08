"""Benchmark: training the learned match model on 1,000,000 answered items (issue 12, Done-when 4: under 60 s).

The items are drawn from a known logistic world (``tests.support.learned_world``: every production feature
column, NaN where production has unknowns, labels from a known truth), built directly as frames: seeding a
million items through the matching pipeline would take hours and measure the seeding. Reported, all
measured in this run: wall time, this process's CPU time, the load average and the peak of Python and numpy
allocations (tracemalloc) of

- the whole training (``fit_learned_model``: the design matrix, the blocked cross-validation of the penalty
  on 100,000 rows, the final fit on all rows, the Platt calibration);
- the baseline: scikit-learn's ``LogisticRegression`` (lbfgs, the same penalty) fitted once on the same
  design matrix, with the prior's log-odds as one more column since it has no offset; and the ratio;
- the training job's whole path from PostgreSQL (``service.train``: read the items, split, fit, evaluate).

Only correctness is asserted: the model recovers the signs of the truth's coefficients, is calibrated (Brier
score within 0.002 of the truth's, mean prediction within 0.005 of the offer rate, every decile within
0.02) and beats the prior's log loss; times are printed, never asserted.

Measured 2026-12-01 on the shared 2-core machine (load average 10-16, so wall times are several times the CPU
times): ``fit_learned_model`` on 1,000,000 items 17.3 s CPU (126 s wall; 23.4 s CPU when the penalty was
chosen on 200,000 rows), peak 359 MiB; the baseline's single fit 5.5 s CPU (37 s wall), peak 343 MiB; ratio
3.1 in CPU: our training does 36 cross-validation fits on 75,000 rows, the final fit and the calibration.
The penalty chosen was 1e-4 (the weakest). The job's whole path from PostgreSQL (second test: 1,000,000
items seeded by SQL, then ``service.train``: read, time split, fit, evaluation against the prior, off-policy
estimate): reading the items took 12.2 s CPU (20.7 s wall, peak 1.1 GiB: the CSV text and the frame), the
whole job 27.7 s CPU, 133 s wall at load 3.7-6 (the database server's time and the other users' processes
are in the wall time, not in our CPU). Before the COPY (one Python dict per item's JSON features) reading the
items had not finished after 8.7 minutes at load 14 (the test's 600 s timeout). So the target of 60 s holds
in CPU time; the wall time on this shared machine does not show it.

Quiet run, 2026-12-01 12:53 UTC, load average 1.0: fit_learned_model on 1,000,000 items 19.2 s wall (18.5 s
CPU), baseline single fit 4.7 s; the training job's whole path from PostgreSQL 34.0 s wall (29.4 s CPU; reading
the items 19.2 s, peak 1.1 GiB): under the 60 s target.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import text
from threadpoolctl import threadpool_limits

from core.config import load_settings
from core.matching.learned import design, evaluate, fit_learned_model
from core.matching.score import PriorModel
from core.models_registry import service
from core.models_registry.training import training_frame
from tests.support.learned_world import TRUTH, world
from tests.support.matching import searching_patient, therapist

ITEMS = 1_000_000
TARGET_S = 60.0


def _measure(label: str, work):
    """Run ``work()`` and print its wall and CPU seconds, the load average and its peak allocations."""
    tracemalloc.start()
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<44} wall {wall:7.2f} s  cpu {cpu:7.2f} s  load {load:5.2f}  peak {peak / 2**20:7.0f} MiB")
    return result, wall, cpu


@pytest.fixture(scope="module")
def items():
    features, labels, truth = world(ITEMS, seed=11)
    return features, labels, truth


def test_bench_training__one_million_items(items):
    features, labels, _ = items
    print(f"\ntraining on {ITEMS:,} items, {int(labels.sum()):,} offers (target under {TARGET_S:.0f} s)")
    model, wall, cpu = _measure(
        "fit_learned_model (CV + fit + calibration)", lambda: fit_learned_model(features, labels)
    )
    penalty = model.details["penalty"]

    def baseline():
        prior_terms, basis = design(features)
        offset = prior_terms.sum(axis=1) + PriorModel().coefficients.intercept
        spread = np.where(basis.std(axis=0) > 0, basis.std(axis=0), 1.0)  # world(): hours and dates never unknown
        x = np.column_stack([prior_terms, (basis - basis.mean(axis=0)) / spread, offset])
        with threadpool_limits(limits=1):  # the same single thread our fit uses
            return LogisticRegression(C=1.0 / (penalty * len(labels)), max_iter=1_000).fit(x, labels)

    _, base_wall, base_cpu = _measure("baseline: sklearn LogisticRegression, one fit", baseline)
    print(f"ratio (ours / baseline): wall {wall / base_wall:.2f}, cpu {cpu / base_cpu:.2f}; "
          f"penalty {penalty}, {'under' if wall < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target")  # fmt: skip

    sample = features.sample(20_000, random_state=1)
    for column, coefficient in TRUTH.items():
        if coefficient == 0:
            continue
        low, high = sample.copy(), sample.copy()
        low[column], high[column] = sample[column].quantile(0.1), sample[column].quantile(0.9)
        effect = float(np.mean(model.log_odds(high) - model.log_odds(low)))
        assert np.sign(effect) == np.sign(coefficient), (column, effect)
    test, test_labels, test_truth = world(200_000, seed=12)
    learned, prior = evaluate(model, test, test_labels), evaluate(PriorModel(), test, test_labels)
    assert learned["brier"] <= float(np.mean((test_truth - test_labels) ** 2)) + 0.002
    assert abs(learned["mean_predicted"] - learned["offer_rate"]) < 0.005
    assert all(abs(d["predicted"] - d["observed"]) < 0.02 for d in learned["calibration"]), learned["calibration"]
    assert learned["log_loss"] < prior["log_loss"]


SEED_SQL = """
INSERT INTO inquiry (reference, therapist_id, status, version, created_at, updated_at)
SELECT 'B-2026-' || lpad(g::text, 7, '0'), :therapist, 'answered', 1,
       :start + g * interval '1 minute', :start + g * interval '1 minute'
FROM generate_series(1, :inquiries) AS g;

INSERT INTO inquiry_item (inquiry_id, search_id, outcome, score, factors, is_exploration, selection_probability,
                          features, model_name, is_conflict, created_at)
SELECT i.id, (:searches)[s], CASE WHEN random() < 0.07 THEN 'accepted'
                                  WHEN random() < 0.7 THEN 'declined_capacity'
                                  ELSE 'no_answer' END,
       0.05, '[]'::jsonb, random() < 0.05, 0.01, jsonb_build_object(
         'distance_km', random() * 40, 'overlap_hours', CASE WHEN random() < 0.3 THEN NULL ELSE random() * 30 END,
         'inquiries_closed', floor(random() * 6), 'inquiries_answered', floor(random() * 4),
         'items_answered', floor(random() * 10), 'items_offered', floor(random() * 2),
         'response_rate', 0.3 + random() * 0.7, 'acceptance_rate', random() * 0.3,
         'days_since_contact', CASE WHEN random() < 0.5 THEN NULL ELSE random() * 300 END,
         'accepting', CASE WHEN random() < 0.3 THEN NULL WHEN random() < 0.5 THEN 0 ELSE 1 END,
         'accepting_age_days', random() * 400, 'data_age_days', random() * 800, 'waiting_days', random() * 300),
       'prior-v1', false, i.created_at
FROM inquiry AS i CROSS JOIN generate_series(1, :per_inquiry) AS s
WHERE i.reference LIKE 'B-2026-%'
"""


def test_bench_training__one_million_items_from_postgres(session, tmp_path):
    """The training job's whole path: read the items from PostgreSQL, split by time, fit, evaluate."""
    per_inquiry = 6
    kraus = therapist(session, "Kraus")
    searches = [searching_patient(session, f"Muster{i}").id for i in range(per_inquiry)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    _measure("seeding PostgreSQL (not part of training)", lambda: [session.execute(text(part), {
        "therapist": kraus.id, "start": start, "inquiries": -(-ITEMS // per_inquiry), "searches": searches,
        "per_inquiry": per_inquiry}) for part in SEED_SQL.split(";\n")])  # fmt: skip
    now = datetime(2026, 12, 1, tzinfo=UTC)
    frame, _, _ = _measure("training_frame: read the items", lambda: training_frame(session, until=now))
    assert len(frame) >= ITEMS
    settings = load_settings(data_dir=tmp_path, match_model="learned")
    counts, wall, cpu = _measure("service.train (read + split + fit + evaluate)",
                                 lambda: service.train(session, now=now, settings=settings, dry_run=True))  # fmt: skip
    print(f"the whole training job: wall {wall:.1f} s, cpu {cpu:.1f} s "
          f"({'under' if wall < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target)")  # fmt: skip
    assert counts["status"] == "trained"
    assert counts["train_rows"] + counts["test_rows"] == len(frame)
