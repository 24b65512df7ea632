"""Tuning of the hybrid on a validation split carved from the training part.

The test split is never touched: ``tune`` receives training rows only and holds out a
validation fraction of them (same protocol as the evaluation). Stages, each keeping the
best validation NDCG@k: ALS (a bounded grid over factors / regularization / alpha), EASE
(its ``l2``, one gram matrix for every value), the time-window co-occurrence (one fit), then
the blend over the winners' precomputed z-scores (cheap: no refit), coordinate-wise: ALS
weight x co-occurrence weight, then the popularity penalty, then the ALS weight again.

Coverage-aware tie-break: NDCG differences of a fraction of a percent between blend points
are noise at MovieLens sizes (a few hundred validation users), while the catalogue coverage
they give can differ by a tenth. So among the blend points tried whose validation NDCG is
within ``ndcg_tolerance`` (relative, default :data:`NDCG_TOLERANCE`) of the best, the one with
the highest validation coverage wins (then the higher NDCG). ``ndcg_tolerance=0`` is the
plain best-NDCG choice.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import cooc as cooc_engine
from . import ease as ease_engine
from .als import AlsParams
from .als import train as als_train
from .evaluate import evaluate_scorer
from .hybrid import HybridParams, blend, popularity_z, signal_matrix, zscore_rows
from .matrix import ConfidenceWeights, IdIndex, Interactions
from .progress import Progress, report
from .split import holdout_split

ALS_GRID: dict[str, list[Any]] = {
    "factors": [64, 128],
    "regularization": [10.0, 30.0, 100.0],
    "alpha": [5.0, 20.0],
}
EASE_L2_GRID: list[float] = [100.0, 200.0, 400.0, 800.0, 1600.0]
BLEND_WEIGHTS: list[float] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
POPULARITY_PENALTIES: list[float] = [0.0, 0.05, 0.1, 0.2, 0.4]
COOC_WEIGHTS: list[float] = [0.0, 0.2, 0.4, 0.7, 1.0]
#: Relative NDCG tolerance of the coverage-aware tie-break (``RECS_TUNE_NDCG_TOLERANCE``).
NDCG_TOLERANCE = 0.005
#: Validation users scored per trial at most (bounds memory and time on big data).
MAX_VALIDATION_USERS = 4000


@dataclass
class TuneResult:
    best: HybridParams
    validation: dict[str, float]  # the winner's validation metrics
    table: list[dict[str, Any]]  # one row per trial: stage, values, ndcg@k, coverage, seconds


def tune(
    train_rows: Interactions,
    *,
    base: HybridParams | None = None,
    weights: ConfidenceWeights | None = None,
    now: int | None = None,
    als_grid: dict[str, list[Any]] | None = None,
    ease_grid: list[float] | None = None,
    validation_fraction: float = 0.2,
    max_trials: int | None = 12,
    k: int = 10,
    seed: int = 43,
    item_index: IdIndex | None = None,
    ndcg_tolerance: float = NDCG_TOLERANCE,
    progress: Progress | None = None,
) -> TuneResult:
    """Pick hybrid parameters on a validation split of ``train_rows`` (see module doc).

    ``max_trials`` bounds the ALS grid (a seeded random subset when larger);
    ``ndcg_tolerance`` is the coverage-aware tie-break's relative NDCG tolerance.
    """
    if not 0.0 <= ndcg_tolerance < 1.0:
        raise ValueError(f"ndcg_tolerance must be in [0, 1): {ndcg_tolerance}")
    base = base or HybridParams()
    weights = weights or ConfidenceWeights()
    als_grid = als_grid or ALS_GRID
    ease_grid = ease_grid or EASE_L2_GRID
    unknown = set(als_grid) - set(base.als.to_dict())
    if unknown:
        raise ValueError(f"unknown AlsParams fields in grid: {sorted(unknown)}")
    names = list(als_grid)
    combos = list(itertools.product(*(als_grid[n] for n in names)))
    if max_trials is not None and len(combos) > max_trials:
        pick = np.random.default_rng(seed).choice(len(combos), size=max_trials, replace=False)
        combos = [combos[i] for i in sorted(pick)]

    split = holdout_split(train_rows, fraction=validation_fraction, seed=seed)
    users = IdIndex.from_values(train_rows.user_ids)
    items = item_index if item_index is not None else IdIndex.from_values(train_rows.item_ids)
    matrix = split.train.to_matrix(weights, now=now, user_index=users, item_index=items)
    signal = signal_matrix(
        split.train, weights, base.blend.low_rating_value, now=now,
        user_index=users, item_index=items,
    )  # fmt: skip
    rel = users.to_index(split.relevant()[0])
    sample = np.unique(rel[rel >= 0])
    if sample.size > MAX_VALIDATION_USERS:
        sample = np.sort(np.random.default_rng(seed).choice(sample, MAX_VALIDATION_USERS, False))
    total = len(combos) + len(ease_grid) + 2
    done = 0
    table: list[dict[str, Any]] = []
    coverage: dict[tuple[str, tuple[Any, ...]], float] = {}

    def trial(stage: str, values: dict[str, Any], score: Any) -> float:
        started = time.perf_counter()
        metrics = evaluate_scorer(score, matrix, split, k=k, users=sample)
        coverage[stage, tuple(values.values())] = metrics.coverage
        table.append(
            {
                "stage": stage,
                **values,
                f"ndcg@{k}": round(metrics.ndcg, 5),
                "coverage": round(metrics.coverage, 5),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        return metrics.ndcg

    # 1. ALS grid.
    best_als: tuple[float, AlsParams, Any] | None = None
    for values in combos:
        params = replace(base.als, **dict(zip(names, values, strict=True)))
        started = time.perf_counter()
        model = als_train(matrix, params)
        fit_seconds = time.perf_counter() - started
        ndcg = trial(
            "als",
            dict(zip(names, values, strict=True)),
            lambda u, m=model: m.user_factors[u] @ m.item_factors.T,
        )
        table[-1]["seconds"] += round(fit_seconds, 3)
        if best_als is None or ndcg > best_als[0]:
            best_als = (ndcg, params, model)
        done += 1
        report(progress, "tune", done, total)
    if best_als is None:
        raise ValueError("empty ALS grid")
    _, als_params, als_model = best_als

    # 2. EASE l2 (one gram for all values).
    kept, gram = ease_engine.gram(signal, base.ease)
    best_ease: tuple[float, ease_engine.EaseParams, Any] | None = None
    for l2 in ease_grid:
        params_e = replace(base.ease, l2=float(l2))
        model_e = ease_engine.fit_from_gram(kept, gram, len(items), params_e)
        ndcg = trial("ease", {"l2": l2}, lambda u, m=model_e: m.scores(signal[u]))
        if best_ease is None or ndcg > best_ease[0]:
            best_ease = (ndcg, params_e, model_e)
        else:
            del model_e
        done += 1
        report(progress, "tune", done, total)
    del gram
    assert best_ease is not None
    _, ease_params, ease_model = best_ease

    # 3. Time-window co-occurrence (its blend weight is what matters; one fit).
    cooc_model = cooc_engine.fit(split.train, users, items, base.cooc)
    cooc_ndcg = trial("cooc", {}, lambda u: cooc_model.scores(signal[u]))
    done += 1
    report(progress, "tune", done, total)

    # 4. Blend on precomputed z-scores of the sample, coordinate-wise.
    position = np.full(matrix.shape[0], -1, dtype=np.int64)
    position[sample] = np.arange(sample.size)
    z_als = zscore_rows(als_model.user_factors[sample] @ als_model.item_factors.T, inplace=True)
    z_ease = zscore_rows(ease_model.scores(signal[sample]), inplace=True)
    z_cooc = zscore_rows(cooc_model.scores(signal[sample]), inplace=True)
    pop_z = popularity_z(matrix.popularity())
    tried: dict[tuple[float, float, float], float] = {}

    def blend_trial(w: float, c: float, penalty: float) -> float:
        if (w, c, penalty) not in tried:
            b = replace(base.blend, als_weight=w, cooc_weight=c, popularity_penalty=penalty)
            tried[(w, c, penalty)] = trial(
                "blend",
                {"als_weight": w, "cooc_weight": c, "popularity_penalty": penalty},
                lambda u: blend(
                    z_als[position[u]], z_ease[position[u]], pop_z, b, z_cooc[position[u]]
                ),
            )
        return tried[(w, c, penalty)]

    def best_of(candidates: list[tuple[float, float, float]]) -> tuple[float, float, float]:
        scored = [(blend_trial(*point), -n, point) for n, point in enumerate(candidates)]
        return max(scored)[2]  # ties: the earlier (simpler) candidate

    w, c, penalty = best_of([(w, c, 0.0) for c in COOC_WEIGHTS for w in BLEND_WEIGHTS])
    w, c, penalty = best_of([(w, c, p) for p in POPULARITY_PENALTIES])
    w, c, penalty = best_of([(x, c, penalty) for x in BLEND_WEIGHTS])
    best_ndcg = tried[(w, c, penalty)]
    w, c, penalty = coverage_tie_break(
        {point: (ndcg, coverage["blend", point]) for point, ndcg in tried.items()},
        (w, c, penalty),
        ndcg_tolerance,
    )
    done += 1
    report(progress, "tune", done, total)
    chosen_blend = replace(base.blend, als_weight=w, cooc_weight=c, popularity_penalty=penalty)
    chosen = HybridParams(als=als_params, ease=ease_params, blend=chosen_blend, cooc=base.cooc)
    winner = next(
        row
        for row in table
        if row["stage"] == "blend"
        and (row["als_weight"], row["cooc_weight"], row["popularity_penalty"]) == (w, c, penalty)
    )
    validation = {
        f"ndcg@{k}": winner[f"ndcg@{k}"],
        "coverage": winner["coverage"],
        f"als_ndcg@{k}": round(best_als[0], 5),
        f"ease_ndcg@{k}": round(best_ease[0], 5),
        f"cooc_ndcg@{k}": round(cooc_ndcg, 5),
        f"best_ndcg@{k}": round(best_ndcg, 5),
        "ndcg_tolerance": ndcg_tolerance,
        "users": int(sample.size),
    }
    return TuneResult(best=chosen, validation=validation, table=table)


def coverage_tie_break(
    points: dict[tuple[float, float, float], tuple[float, float]],
    best: tuple[float, float, float],
    tolerance: float,
) -> tuple[float, float, float]:
    """Among ``points`` (blend point -> validation (NDCG, coverage)) within ``tolerance``
    (relative) of ``best``'s NDCG, the one with the highest coverage; ties go to the higher
    NDCG, then to ``best``. ``tolerance=0`` keeps ``best``."""
    if tolerance <= 0:
        return best
    floor = points[best][0] * (1.0 - tolerance)
    near = [p for p, (ndcg, _) in points.items() if ndcg >= floor]
    return max(near, key=lambda p: (points[p][1], points[p][0], p == best))
