"""Bounded grid search over ALS hyper-parameters on a validation split carved from train.

The test split is never touched: ``tune`` receives training rows only and holds out a
validation fraction of them, so the chosen parameters are not fitted to the test set.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .als import AlsParams, train
from .evaluate import evaluate_model
from .matrix import ConfidenceWeights, IdIndex, Interactions
from .progress import Progress, report
from .split import holdout_split

DEFAULT_GRID: dict[str, list[Any]] = {
    "regularization": [0.01, 0.1, 1.0, 10.0, 50.0, 100.0],
    "factors": [32, 64, 128],
    "alpha": [1.0, 5.0, 20.0, 40.0],
}


@dataclass
class TuneResult:
    best_params: AlsParams
    best_ndcg: float
    table: list[dict[str, Any]]  # one row per trial: the grid values, metrics and seconds


def tune(
    train_rows: Interactions,
    grid: dict[str, list[Any]] | None = None,
    *,
    base: AlsParams | None = None,
    weights: ConfidenceWeights | None = None,
    now: int | None = None,
    validation_fraction: float = 0.2,
    max_trials: int | None = 24,
    k: int = 10,
    seed: int = 43,
    progress: Progress | None = None,
) -> TuneResult:
    """Try grid combinations (``AlsParams`` field -> values) and keep the best NDCG@k.

    When the grid has more than ``max_trials`` combinations a seeded random subset is tried,
    which bounds the run time whatever grid the caller configures.
    """
    grid = grid or DEFAULT_GRID
    base = base or AlsParams()
    unknown = set(grid) - set(base.to_dict())
    if unknown:
        raise ValueError(f"unknown AlsParams fields in grid: {sorted(unknown)}")
    names = list(grid)
    combos = list(itertools.product(*(grid[n] for n in names)))
    if max_trials is not None and len(combos) > max_trials:
        pick = np.random.default_rng(seed).choice(len(combos), size=max_trials, replace=False)
        combos = [combos[i] for i in sorted(pick)]

    split = holdout_split(train_rows, fraction=validation_fraction, seed=seed)
    users = IdIndex.from_values(train_rows.user_ids)
    items = IdIndex.from_values(train_rows.item_ids)
    matrix = split.train.to_matrix(weights, now=now, user_index=users, item_index=items)

    table: list[dict[str, Any]] = []
    best: tuple[float, AlsParams] | None = None
    for trial, values in enumerate(combos):
        params = replace(base, **dict(zip(names, values, strict=True)))
        start = time.perf_counter()
        model = train(matrix, params)
        metrics = evaluate_model(model, matrix, split, k=k)
        table.append(
            {
                **dict(zip(names, values, strict=True)),
                **metrics.as_dict(),
                "seconds": time.perf_counter() - start,
            }
        )
        if best is None or metrics.ndcg > best[0]:
            best = (metrics.ndcg, params)
        report(progress, "tune", trial + 1, len(combos))
    if best is None:
        raise ValueError("empty grid")
    return TuneResult(best_params=best[1], best_ndcg=best[0], table=table)
