"""The one offline recipe: split -> (tune) -> fit -> evaluate -> calibrate -> refit.

``recs.services.recs_model_train`` (task, command), ``recs_model_evaluate`` and the quality
benchmark all call :func:`run`, so the figures in the docs, the promotion gate and the served
model come from the same code. Protocol: per-user seeded random holdout of ``test_fraction``
of each user's ratings; relevant = held-out rating >= 4; top-k excluding every training
movie; averaged over users with at least one relevant held-out movie; tuning on a validation
split carved from the training part only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import cooc as cooc_engine
from . import ease as ease_engine
from .evaluate import Metrics, evaluate_popularity, evaluate_scorer, evaluate_scorers
from .hybrid import (
    LIKE_THRESHOLD,
    HybridModel,
    HybridParams,
    blend,
    fit_isotonic,
    reliability_table,
    train_hybrid,
)
from .matrix import KIND_RATING, ConfidenceWeights, IdIndex, Interactions
from .progress import Progress, Timings, report
from .split import holdout_split
from .tune import NDCG_TOLERANCE, TuneResult, tune


@dataclass
class RecipeResult:
    model: HybridModel  # served model: refit on every row when ``refit``
    params: HybridParams
    metrics: Metrics  # the hybrid on the test split
    baseline: Metrics  # most popular on the same split
    components: dict[str, Metrics]  # "als", "ease" and "cooc" alone (see ``unused_components``)
    reliability: list[dict[str, float]]  # calibration checked on users it was not fitted on
    timings: dict[str, float]
    counts: dict[str, int]
    tuning: TuneResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The hybrid on the same test split with each popularity penalty of ``novelty_grid``.
    novelty: dict[float, Metrics] = field(default_factory=dict)


def calibrate(
    model: HybridModel,
    signal: sp.csr_matrix,
    users: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    blended: np.ndarray | None = None,
) -> list[dict[str, float]]:
    """Fit blended score -> P(rating >= 4) on (user, item, stars) ratings the model did not
    train on, and check it on the other half of the users (the reliability table).

    ``users``/``items`` are model indices of trained users, ``signal`` their EASE rows;
    ``blended`` (the model's score of each pair, when the evaluation already computed it)
    saves scoring the users again."""
    keep = (users >= 0) & (items >= 0)
    users, items, scores = users[keep], items[keep], scores[keep]
    if users.size == 0:
        return []
    order = np.argsort(users, kind="stable")
    users, items, scores = users[order], items[order], scores[order]
    if blended is not None:
        blended = np.asarray(blended, dtype=np.float64)[keep][order]
    else:
        distinct, start = np.unique(users, return_index=True)
        blended = np.empty(users.size, dtype=np.float64)
        batch = max(1, (1 << 24) // max(model.n_items, 1))
        bounds = np.r_[start, users.size]
        for b in range(0, distinct.size, batch):
            chunk = distinct[b : b + batch]
            dense = model.score_batch(chunk, signal[chunk])
            lo, hi = bounds[b], bounds[min(b + batch, distinct.size)]
            row = np.searchsorted(chunk, users[lo:hi])
            blended[lo:hi] = dense[row, items[lo:hi]]
    liked = (scores >= LIKE_THRESHOLD).astype(np.float64)
    half = (users % 2) == 0
    xs, ps = fit_isotonic(blended[half], liked[half])
    table = reliability_table(np.interp(blended[~half], xs, ps), liked[~half])
    model.calibration_x, model.calibration_p = fit_isotonic(blended, liked)
    return table


def run(
    rows: Interactions,
    params: HybridParams | None = None,
    *,
    weights: ConfidenceWeights | None = None,
    now: int | None = None,
    seed: int = 42,
    test_fraction: float = 0.2,
    k: int = 10,
    tune_first: bool = False,
    max_trials: int | None = 12,
    refit: bool = True,
    max_test_users: int | None = None,
    refit_min_heldout: float = 0.0,
    popularity_penalty: float | None = None,
    novelty_grid: tuple[float, ...] = (),
    ndcg_tolerance: float = NDCG_TOLERANCE,
    unused_components: bool = True,
    progress: Progress | None = None,
) -> RecipeResult:
    """Evaluate ``params`` (or the parameters tuned on validation when ``tune_first``) on a
    seeded split, calibrate ``match`` on the held-out ratings and, with ``refit``, fit the
    served model on every row with the same parameters and calibration.

    ``max_test_users`` tests a seeded sample of users only (see ``holdout_split``). When the
    held-out ratings are fewer than ``refit_min_heldout`` of all rows, the evaluated model is
    served as it is instead of being refit: a second fit would double the cost of a big
    training to add back a sliver of the data to the item-side structures, while the users
    whose ratings were held out still get them at serving time (their vectors and EASE rows
    are rebuilt from their current feedback). ``extra["refit"]`` says which happened.

    ``popularity_penalty`` overrides the tuned one (the novelty control; None keeps the best
    validation NDCG, with the tuning's coverage-aware tie-break of ``ndcg_tolerance``).
    ``novelty_grid`` also scores the fitted hybrid with each of those
    penalties on the same test split (``novelty``), to show what the control trades.

    ``components`` holds ALS, EASE and co-occurrence each ranked alone; with
    ``unused_components`` off, only those the blend uses: fitting a component with no weight
    just to report it (the co-occurrence over the newest 5M rows at 25M) is what a nightly
    training should not pay for."""
    weights = weights or ConfidenceWeights()
    params = params or HybridParams()
    timings = Timings()
    with timings.stage("split"):
        users = IdIndex.from_values(rows.user_ids)
        items = IdIndex.from_values(rows.item_ids)
        split = holdout_split(rows, fraction=test_fraction, seed=seed, max_users=max_test_users)
    tuning = None
    if tune_first:
        with timings.stage("tune"):
            tuning = tune(
                split.train, base=params, weights=weights, now=now, max_trials=max_trials,
                k=k, seed=seed + 1, item_index=items, ndcg_tolerance=ndcg_tolerance,
                progress=progress,
            )  # fmt: skip
            params = tuning.best
    if popularity_penalty is not None:
        params = replace(params, blend=replace(params.blend, popularity_penalty=popularity_penalty))
    with timings.stage("fit"):
        model, matrix, signal = train_hybrid(
            split.train, params, weights=weights, now=now, user_index=users, item_index=items,
            progress=progress,
        )  # fmt: skip
    test_u = users.to_index(split.test_user_ids)
    test_i = items.to_index(split.test_item_ids)
    by_user = np.argsort(test_u, kind="stable")
    pair_u, pair_i = test_u[by_user], test_i[by_user]
    pair_blended = np.full(test_u.size, np.nan)

    def keep_test_scores(batch: np.ndarray, scores: dict[str, np.ndarray]) -> None:
        # Every test user of this (sorted) batch's range is in it: take their held-out pairs.
        lo = np.searchsorted(pair_u, batch[0], side="left")
        hi = np.searchsorted(pair_u, batch[-1], side="right")
        rows = np.searchsorted(batch, pair_u[lo:hi])
        ok = pair_i[lo:hi] >= 0
        pair_blended[by_user[lo:hi][ok]] = scores["hybrid"][rows[ok], pair_i[lo:hi][ok]]

    with timings.stage("evaluate"):
        ease, cooc = model.ease, model.cooc
        if unused_components:
            ease = ease or ease_engine.fit(signal, params.ease)
            cooc = cooc or cooc_engine.fit(split.train, users, items, params.cooc)
        names = ("hybrid", "als", *(["ease"] if ease else []), *(["cooc"] if cooc else []))
        pop_z = model.pop_z  # computed once, before the batches run in threads

        def scores(u: np.ndarray) -> dict[str, np.ndarray]:
            # One product per component and batch; z-scoring keeps each row's order, so the
            # components' own rankings come from the same arrays as the blend.
            rows_u = signal[u]
            z_als, z_ease, z_cooc = model.component_scores(u, rows_u)
            out = {
                "hybrid": blend(z_als, z_ease, pop_z, model.params.blend, z_cooc),
                "als": z_als,
            }
            if ease is not None:
                out["ease"] = z_ease if z_ease is not None else ease.scores(rows_u)
            if cooc is not None:
                out["cooc"] = z_cooc if z_cooc is not None else cooc.scores(rows_u)
            return out

        evaluated = evaluate_scorers(
            scores, names, matrix, split, k=k, progress=progress,
            also_users=np.unique(test_u[test_u >= 0]), on_batch=keep_test_scores,
            workers=min(4, os.cpu_count() or 1),  # about 0.8 GB per batch at 62k movies
        )  # fmt: skip
        metrics = evaluated.pop("hybrid")
        components = evaluated
        baseline = evaluate_popularity(matrix, split, k)
        novelty = {}
        for penalty in novelty_grid:
            variant = replace(model, params=replace(params, blend=replace(
                params.blend, popularity_penalty=penalty)))  # fmt: skip
            novelty[penalty] = evaluate_scorer(
                lambda u, m=variant: m.score_batch(u, signal[u]), matrix, split, k=k
            )
    with timings.stage("calibrate"):
        reliability = calibrate(
            model, signal, test_u, test_i, split.test_scores, blended=pair_blended
        )
        report(progress, "calibrate", 1, 1)
    served = model
    refit = refit and split.n_test >= refit_min_heldout * len(rows)
    if refit:
        with timings.stage("refit"):
            served, _, _ = train_hybrid(
                rows, params, weights=weights, now=now, user_index=users, item_index=items,
                progress=progress,
            )  # fmt: skip
            served.calibration_x, served.calibration_p = model.calibration_x, model.calibration_p
    kinds = np.bincount(rows.kinds, minlength=4)
    counts = {
        "interactions": len(rows),
        "ratings": int(kinds[KIND_RATING]),
        "users": len(users),
        "movies": len(items),
        "train_interactions": len(split.train),
        "test_ratings": split.n_test,
    }
    return RecipeResult(
        model=served,
        params=params,
        metrics=metrics,
        baseline=baseline,
        components=components,
        reliability=reliability,
        timings=timings.as_dict(),
        counts=counts,
        tuning=tuning,
        extra={"refit": refit},
        novelty=novelty,
    )


def tune_only(
    rows: Interactions,
    params: HybridParams,
    *,
    weights: ConfidenceWeights,
    now: int | None,
    seed: int = 42,
    test_fraction: float = 0.2,
    k: int = 10,
    max_trials: int | None = 12,
    als_grid: dict[str, list[Any]] | None = None,
    ndcg_tolerance: float = NDCG_TOLERANCE,
    progress: Progress | None = None,
) -> RecipeResult:
    """Only the tuning stage of :func:`run` (same split, same validation carve-out)."""
    timings = Timings()
    with timings.stage("tune"):
        items = IdIndex.from_values(rows.item_ids)
        split = holdout_split(rows, fraction=test_fraction, seed=seed)
        tuning = tune(
            split.train, base=params, weights=weights, now=now, max_trials=max_trials, k=k,
            seed=seed + 1, item_index=items, als_grid=als_grid, ndcg_tolerance=ndcg_tolerance,
            progress=progress,
        )  # fmt: skip
    empty = Metrics(k, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
    return RecipeResult(
        model=None,  # type: ignore[arg-type]
        params=tuning.best,
        metrics=empty,
        baseline=empty,
        components={},
        reliability=[],
        timings=timings.as_dict(),
        counts={"interactions": len(rows)},
        tuning=tuning,
    )
