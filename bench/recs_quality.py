"""The recommendation quality table of docs/recommendations.md, from one command.

Run from the repository root:
``python -m bench.recs_quality PATH [--seeds 3]`` where PATH is a MovieLens ratings file
(``u.data`` of ml-100k, ``ratings.dat`` of ml-1m/ml-10m, ``ratings.csv`` of ml-20m/ml-25m/
ml-latest), or ``python -m bench.recs_quality`` (``--synthetic``) for the planted set.

For each seed it runs ``recs.engine.recipe.run`` with tuning: the same code, protocol and
automatic tuning as ``manage.py train_model`` (per-user seeded 80/20 holdout, relevant =
held-out rating >= 4, top-10 excluding training movies, tuning on a validation split of the
training part). It prints most popular, ALS and EASE each tuned on validation, and the
hybrid, as mean ± spread (half the range) over the seeds, plus the calibration reliability
and the seconds per stage. Nothing is downloaded; MovieLens files are read where they are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recs.engine.evaluate import Metrics  # noqa: E402
from recs.engine.matrix import Interactions  # noqa: E402
from recs.engine.recipe import run  # noqa: E402
from recs.engine.synthetic import generate  # noqa: E402

COLUMNS = ("ndcg", "precision", "recall", "map", "coverage")


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
    args = parser.parse_args()
    if args.synthetic or args.path is None:
        rows = generate(n_users=3000, n_items=3000, n_ratings=300_000, seed=11).interactions
        label = "synthetic planted"
    else:
        rows = ratings_read(args.path)
        label = str(args.path.name)
    users, movies = np.unique(rows.user_ids).size, np.unique(rows.item_ids).size
    print(f"{label}: {len(rows):,} ratings, {users:,} users, {movies:,} movies")

    table: dict[str, list[Metrics]] = {}
    timings: dict[str, list[float]] = {}
    started = time.perf_counter()
    for seed in range(42, 42 + args.seeds):
        result = run(rows, seed=seed, tune_first=True, max_trials=args.max_trials, refit=False)
        table.setdefault("most popular", []).append(result.baseline)
        table.setdefault("ALS (tuned on validation)", []).append(result.components["als"])
        if "ease" in result.components:
            table.setdefault("EASE (tuned on validation)", []).append(result.components["ease"])
        table.setdefault("hybrid (as train_model)", []).append(result.metrics)
        for stage, seconds in result.timings.items():
            timings.setdefault(stage, []).append(seconds)
        chosen = result.params
        print(
            f"seed {seed}: hybrid ndcg@10 {result.metrics.ndcg:.4f}; chosen als "
            f"{chosen.als.factors}f reg {chosen.als.regularization:g} alpha "
            f"{chosen.als.alpha:g}, ease l2 {chosen.ease.l2:g}, blend als_weight "
            f"{chosen.blend.als_weight:g} popularity_penalty {chosen.blend.popularity_penalty:g}"
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
    als = np.mean([m.ndcg for m in table["ALS (tuned on validation)"]])
    pop = np.mean([m.ndcg for m in table["most popular"]])
    hybrid = np.mean([m.ndcg for m in table["hybrid (as train_model)"]])
    print()
    print(
        f"hybrid vs tuned ALS: {hybrid / als - 1:+.1%} NDCG@10; vs popularity: x{hybrid / pop:.2f}"
    )
    print("calibration (seed 42, users not used for fitting): predicted -> observed like rate")
    for row in reliability:
        print(f"  {row['predicted']:.3f} -> {row['observed']:.3f}  (n={row['n']})")
    stages = ", ".join(f"{k} {np.mean(v):.1f}s" for k, v in timings.items())
    print(f"seconds per seed: {stages}")
    print(f"done: {args.seeds} seeds in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
