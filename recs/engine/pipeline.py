"""The whole offline flow in one call: build -> split -> train -> evaluate -> refit -> save.

This is what ``recs.services.recs_model_train`` is expected to call with rows from the
ratings/playlists selectors; every step is also usable on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import artifacts
from .als import AlsModel, AlsParams, train
from .evaluate import Metrics, compare, evaluate_model, evaluate_popularity
from .matrix import ConfidenceWeights, InteractionMatrix, Interactions
from .progress import Progress, Timings
from .split import RELEVANCE_THRESHOLD, Split, holdout_split


@dataclass
class PipelineResult:
    model: AlsModel  # the model to serve (refit on all rows when ``refit=True``)
    metrics: Metrics  # the held-out model's metrics
    baseline: Metrics  # most-popular baseline on the same split
    comparison: dict[str, dict[str, float]]
    timings: dict[str, float]  # seconds per stage
    split: Split
    train_matrix: InteractionMatrix
    artifact: Path | None

    def summary(self) -> dict[str, Any]:
        """JSON-able facts for ``ModelVersion.metrics`` and ``meta.json``."""
        return {
            "metrics": self.metrics.as_dict(),
            "baseline": self.baseline.as_dict(),
            "comparison": self.comparison,
            "timings": self.timings,
            "n_interactions": len(self.split.train) + self.split.n_test,
            "n_users": self.model.n_users,
            "n_items": self.model.n_items,
        }


def run(
    rows: Interactions,
    params: AlsParams | None = None,
    *,
    weights: ConfidenceWeights | None = None,
    now: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    k: int = 10,
    relevance_threshold: float = RELEVANCE_THRESHOLD,
    refit: bool = True,
    artifact_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> PipelineResult:
    """Train, evaluate against popularity, optionally refit on all rows and save.

    The served model is refit on every row (held-out ratings are real signal), and keeps
    the ``match_score`` calibration fitted on the held-out likes of the evaluated model:
    same hyper-parameters give the same score scale, and held-out positives are honest.
    """
    params = params or AlsParams()
    timings = Timings()
    with timings.stage("build"):
        full = rows.to_matrix(weights, now=now)
    with timings.stage("split"):
        split = holdout_split(rows, fraction=test_fraction, seed=seed)
        train_matrix = split.train.to_matrix(
            weights, now=now, user_index=full.user_index, item_index=full.item_index
        )
    with timings.stage("fit"):
        rel_users, rel_items = split.relevant(relevance_threshold)
        pairs = (full.user_index.to_index(rel_users), full.item_index.to_index(rel_items))
        model = train(train_matrix, params, progress=progress, calibration_pairs=pairs)
    with timings.stage("evaluate"):
        metrics = evaluate_model(
            model, train_matrix, split, k, relevance_threshold, progress=progress
        )
        baseline = evaluate_popularity(train_matrix, split, k, relevance_threshold)
    if refit:
        with timings.stage("refit"):
            served = train(full, params, progress=progress)
            served.calibration = model.calibration
    else:
        served = model
    result = PipelineResult(
        model=served,
        metrics=metrics,
        baseline=baseline,
        comparison=compare(metrics, baseline),
        timings=timings.seconds,
        split=split,
        train_matrix=train_matrix,
        artifact=None,
    )
    if artifact_dir is not None:
        with timings.stage("save"):
            result.artifact = artifacts.save(served, artifact_dir, meta=result.summary())
    return result
