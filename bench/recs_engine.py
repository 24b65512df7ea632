"""Benchmark of the recommendation engine on planted synthetic data (default 1M interactions).

Run from the repository root: ``python bench/recs_engine.py [--tune]``.
Prints seconds per stage and model-vs-popularity metrics. Nothing is downloaded; the
artifact is written to a temporary directory and removed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from recs.engine import artifacts  # noqa: E402
from recs.engine.als import AlsParams, train  # noqa: E402
from recs.engine.evaluate import compare, evaluate_model, evaluate_popularity  # noqa: E402
from recs.engine.matrix import ConfidenceWeights  # noqa: E402
from recs.engine.progress import Timings  # noqa: E402
from recs.engine.split import holdout_split  # noqa: E402
from recs.engine.synthetic import generate  # noqa: E402
from recs.engine.tune import tune  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=6000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--factors", type=int, default=AlsParams.factors)
    parser.add_argument("--regularization", type=float, default=AlsParams.regularization)
    parser.add_argument("--alpha", type=float, default=AlsParams.alpha)
    parser.add_argument("--iterations", type=int, default=AlsParams.iterations)
    parser.add_argument("--half-life-days", type=float, default=None)
    parser.add_argument(
        "--tune",
        type=int,
        default=0,
        metavar="TRIALS",
        help="also run a grid search with this many trials (on train only)",
    )
    args = parser.parse_args()

    timings = Timings()
    with timings.stage("generate"):
        data = generate(args.users, args.items, args.interactions, seed=0)
    rows = data.interactions
    weights = ConfidenceWeights(half_life_days=args.half_life_days)
    with timings.stage("build"):
        full = rows.to_matrix(weights, now=data.now)
    with timings.stage("split"):
        split = holdout_split(rows, fraction=0.2, seed=42)
        train_matrix = split.train.to_matrix(
            weights, now=data.now, user_index=full.user_index, item_index=full.item_index
        )
    params = AlsParams(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
    )
    with timings.stage("fit"):
        rel_u, rel_i = split.relevant()
        pairs = (full.user_index.to_index(rel_u), full.item_index.to_index(rel_i))
        model = train(train_matrix, params, calibration_pairs=pairs)
    with timings.stage("evaluate"):
        metrics = evaluate_model(model, train_matrix, split)
    with timings.stage("baseline"):
        baseline = evaluate_popularity(train_matrix, split)
    with tempfile.TemporaryDirectory() as tmp:
        with timings.stage("save"):
            path = artifacts.save(model, Path(tmp) / "v1", meta={"ndcg": metrics.ndcg})
        with timings.stage("load"):
            loaded = artifacts.load(path)
        size_mb = sum(p.stat().st_size for p in path.iterdir()) / 1e6
    assert np.array_equal(loaded.item_factors, model.item_factors)

    start = time.perf_counter()
    user_row = train_matrix.confidence[0]
    for _ in range(100):
        vector = model.recalculate_user(user_row)
        model.recommend_for_vector(vector, 20, exclude_idx=train_matrix.seen[0].indices)
    serve_ms = (time.perf_counter() - start) * 10

    print(
        f"data: {len(rows):,} interactions, {full.shape[0]:,} users x {full.shape[1]:,} items, "
        f"{full.confidence.nnz:,} liked pairs; test: {split.n_test:,} held-out ratings, "
        f"{metrics.n_users:,} users with a relevant one"
    )
    print(f"params: {params}")
    print("seconds per stage:")
    for stage, seconds in timings.seconds.items():
        print(f"  {stage:<9} {seconds:7.2f}")
    print(f"  artifact  {size_mb:.1f} MB; recalculate_user + top-20: {serve_ms:.2f} ms/user")
    print(f"metrics @ {metrics.k}:        model   baseline   ratio")
    for name, row in compare(metrics, baseline).items():
        print(f"  {name:<10} {row['model']:9.4f} {row['baseline']:9.4f} {row['ratio']:7.2f}x")
    print(f"match_score calibration (a, b): {model.calibration}")

    if args.tune:
        start = time.perf_counter()
        result = tune(
            split.train,
            base=params,
            weights=weights,
            now=data.now,
            max_trials=args.tune,
            progress=lambda stage, done, total: print(f"  {stage} {done}/{total}", end="\r"),
        )
        print(f"\ntune: {len(result.table)} trials in {time.perf_counter() - start:.1f}s")
        for row in sorted(result.table, key=lambda r: -r["ndcg"]):
            print(
                f"  reg={row['regularization']:<6} factors={row['factors']:<4} "
                f"alpha={row['alpha']:<5} ndcg={row['ndcg']:.4f} ({row['seconds']:.1f}s)"
            )
        print(f"best: {result.best_params}")


if __name__ == "__main__":
    main()
