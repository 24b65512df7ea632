"""The recommendation quality table of docs/recommendations.md, from one command.

Run from the repository root:
``python -m bench.recs_quality PATH [--seeds 3]`` where PATH is a MovieLens ratings file
(``u.data`` of ml-100k, ``ratings.dat`` of ml-1m/ml-10m, ``ratings.csv`` of ml-20m/ml-25m/
ml-latest), or ``python -m bench.recs_quality`` (``--synthetic``) for the planted set.

For each seed it runs ``recs.engine.recipe.run`` with tuning: the same code, protocol and
automatic tuning as ``manage.py train_model`` (per-user seeded 80/20 holdout, relevant =
held-out rating >= 4, top-10 excluding training movies, tuning on a validation split of the
training part). It prints most popular; plain implicit ALS (the issue's baseline: ratings
>= 4 as the only positives, its grid tuned on the same validation split); the hybrid's own
components (ALS, EASE, time-window co-occurrence), each tuned on validation; and the hybrid,
as mean ± spread (half the range) over the seeds; the hybrid and its EASE again as served,
after a round trip through the artifact (``B`` stored as bfloat16, rows read from the
file). Then what the novelty control
(``--novelty``: popularity penalties, applied to the same fitted hybrid) trades, the
calibration reliability and the seconds per stage. Nothing is downloaded; MovieLens files are
read where they are.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recs.engine import artifacts  # noqa: E402
from recs.engine.als import AlsParams  # noqa: E402
from recs.engine.als import train as als_train  # noqa: E402
from recs.engine.evaluate import Metrics, evaluate_scorer  # noqa: E402
from recs.engine.hybrid import signal_matrix  # noqa: E402
from recs.engine.matrix import ConfidenceWeights, IdIndex, Interactions  # noqa: E402
from recs.engine.recipe import RecipeResult, run  # noqa: E402
from recs.engine.split import holdout_split  # noqa: E402
from recs.engine.synthetic import generate  # noqa: E402

PLAIN_ROW = "ALS, plain (ratings >= 4 as positives), tuned on validation"
SERVED_ROW = "hybrid, served from its artifact (EASE B in bfloat16)"
COLUMNS = ("ndcg", "precision", "recall", "map", "coverage")
#: The issue's baseline: implicit ALS with ratings >= 4 as the only (equal) positives.
PLAIN = ConfidenceWeights(rating_threshold=4.0, rating_min_weight=1.0, rating_max_weight=1.0)
PLAIN_GRID = [(128, r, a) for r in (30.0, 60.0, 120.0) for a in (5.0, 10.0, 20.0)]


def ratings_read(path: Path) -> Interactions:
    """Ratings of any MovieLens layout, by file name (u.data, ratings.dat, ratings.csv)."""
    name = path.name
    if name == "u.data":
        table = np.loadtxt(path, dtype=np.float64)
    elif name.endswith(".dat"):
        text = path.read_bytes().decode("latin-1").replace("::", "\t")
        table = np.loadtxt(text.splitlines(), dtype=np.float64, delimiter="\t")
    elif name.endswith(".csv"):
        table = np.loadtxt(path, dtype=np.float64, delimiter=",", skiprows=1)
    else:
        raise SystemExit(f"unknown MovieLens ratings file: {name}")
    return Interactions.ratings(
        table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int64),
        table[:, 2].astype(np.float32),
        table[:, 3].astype(np.int64),
    )


def plain_als(rows: Interactions, seed: int) -> Metrics:
    """Plain implicit ALS on the split ``recipe.run`` makes for ``seed``: the grid is scored
    on the validation split ``tune`` carves (seed + 1), the winner refit on the training part
    and scored on the test part."""
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    split = holdout_split(rows, fraction=0.2, seed=seed)
    train_users = IdIndex.from_values(split.train.user_ids)
    val = holdout_split(split.train, fraction=0.2, seed=seed + 1)
    val_matrix = val.train.to_matrix(PLAIN, user_index=train_users, item_index=items)
    best: tuple[float, AlsParams] | None = None
    for factors, reg, alpha in PLAIN_GRID:
        params = AlsParams(factors=factors, regularization=reg, alpha=alpha)
        model = als_train(val_matrix, params)
        ndcg = evaluate_scorer(
            lambda u, m=model: m.user_factors[u] @ m.item_factors.T, val_matrix, val
        ).ndcg
        if best is None or ndcg > best[0]:
            best = (ndcg, params)
    assert best is not None
    matrix = split.train.to_matrix(PLAIN, user_index=users, item_index=items)
    model = als_train(matrix, best[1])
    print(f"  plain ALS chose {best[1].factors}f reg {best[1].regularization:g} "
          f"alpha {best[1].alpha:g}")  # fmt: skip
    return evaluate_scorer(lambda u: model.user_factors[u] @ model.item_factors.T, matrix, split)


def served(rows: Interactions, result: RecipeResult, seed: int) -> dict[str, Metrics]:
    """The evaluated hybrid (and its EASE) after ``artifacts.save`` + ``load``, i.e. what a
    web worker serves, on the split ``recipe.run`` made for ``seed`` (``refit=False``)."""
    weights = ConfidenceWeights()
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    split = holdout_split(rows, fraction=0.2, seed=seed)
    matrix = split.train.to_matrix(weights, now=None, user_index=users, item_index=items)
    signal = signal_matrix(
        split.train, weights, result.params.blend.low_rating_value, now=None,
        user_index=users, item_index=items,
    )  # fmt: skip
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = artifacts.load(artifacts.save(result.model, Path(tmp) / "v"))
        out["hybrid"] = evaluate_scorer(lambda u: model.score_batch(u, signal[u]), matrix, split)
        if model.ease is not None:
            out["ease"] = evaluate_scorer(lambda u: model.ease.scores(signal[u]), matrix, split)
    return out


def _cell(values: list[float]) -> str:
    mean, spread = float(np.mean(values)), (max(values) - min(values)) / 2
    return f"{mean:.4f} ± {spread:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, help="MovieLens ratings file")
    parser.add_argument(
        "--synthetic", action="store_true", help="the planted set (also without PATH)"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-trials", type=int, default=12, help="ALS grid points tried")
    parser.add_argument(
        "--novelty", default="0.2,0.4,0.8", help="popularity penalties to show (comma list)"
    )
    args = parser.parse_args()
    if args.synthetic or args.path is None:
        rows = generate(n_users=3000, n_items=3000, n_ratings=300_000, seed=11).interactions
        label = "synthetic planted"
    else:
        rows = ratings_read(args.path)
        label = str(args.path.name)
    users, movies = np.unique(rows.user_ids).size, np.unique(rows.item_ids).size
    print(f"{label}: {len(rows):,} ratings, {users:,} users, {movies:,} movies")

    novelty = tuple(float(x) for x in args.novelty.split(",") if x)
    table: dict[str, list[Metrics]] = {}
    trade: dict[float, list[Metrics]] = {}
    timings: dict[str, list[float]] = {}
    started = time.perf_counter()
    for seed in range(42, 42 + args.seeds):
        result = run(
            rows, seed=seed, tune_first=True, max_trials=args.max_trials, refit=False,
            novelty_grid=novelty,
        )  # fmt: skip
        table.setdefault("most popular", []).append(result.baseline)
        table.setdefault(PLAIN_ROW, []).append(plain_als(rows, seed))
        table.setdefault("ALS of the hybrid (tuned on validation)", []).append(
            result.components["als"]
        )
        table.setdefault("EASE (tuned on validation)", []).append(result.components["ease"])
        table.setdefault("time-window co-occurrence", []).append(result.components["cooc"])
        table.setdefault("hybrid (as train_model)", []).append(result.metrics)
        as_served = served(rows, result, seed)
        table.setdefault(SERVED_ROW, []).append(as_served["hybrid"])
        if "ease" in as_served:
            table.setdefault("EASE, served from its artifact", []).append(as_served["ease"])
        for penalty, metrics in result.novelty.items():
            trade.setdefault(penalty, []).append(metrics)
        for stage, seconds in result.timings.items():
            timings.setdefault(stage, []).append(seconds)
        chosen = result.params
        print(
            f"seed {seed}: hybrid ndcg@10 {result.metrics.ndcg:.4f}; chosen als "
            f"{chosen.als.factors}f reg {chosen.als.regularization:g} alpha "
            f"{chosen.als.alpha:g}, ease l2 {chosen.ease.l2:g}, blend als_weight "
            f"{chosen.blend.als_weight:g} cooc_weight {chosen.blend.cooc_weight:g} "
            f"popularity_penalty {chosen.blend.popularity_penalty:g}"
        )
        if seed == 42:
            reliability = result.reliability

    header = "| model | " + " | ".join(f"{c}@10" if c != "coverage" else c for c in COLUMNS)
    print()
    print(header + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, runs in table.items():
        cells = [_cell([getattr(m, c) for m in runs]) for c in COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + " |")

    def mean(name: str) -> float:
        return float(np.mean([m.ndcg for m in table[name]]))

    hybrid = mean("hybrid (as train_model)")
    print()
    print(
        f"hybrid NDCG@10 vs plain tuned ALS: {hybrid / mean(PLAIN_ROW) - 1:+.1%}; vs the "
        f"hybrid's ALS: {hybrid / mean('ALS of the hybrid (tuned on validation)') - 1:+.1%}; "
        f"vs popularity: x{hybrid / mean('most popular'):.2f}"
    )
    if trade:
        print("novelty control (popularity penalty instead of the tuned one, same fitted model):")
        print("| popularity penalty | ndcg@10 | coverage |")
        print("|---|---|---|")
        for penalty, runs in trade.items():
            ndcg = _cell([m.ndcg for m in runs])
            print(f"| {penalty:g} | {ndcg} | {_cell([m.coverage for m in runs])} |")
    print("calibration (seed 42, users not used for fitting): predicted -> observed like rate")
    for row in reliability:
        print(f"  {row['predicted']:.3f} -> {row['observed']:.3f}  (n={row['n']})")
    stages = ", ".join(f"{k} {np.mean(v):.1f}s" for k, v in timings.items())
    print(f"seconds per seed: {stages}")
    print(f"done: {args.seeds} seeds in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
