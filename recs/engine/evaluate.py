"""Offline ranking metrics for a model and the most-popular baseline on the same split.

Protocol: each test user gets a top-k list that excludes everything they interacted with in
train (``InteractionMatrix.seen``); relevant = held-out ratings >= 4.0; only users with at
least one relevant held-out item are averaged. Binary relevance throughout.

Definitions (per user, averaged): precision@k = hits / k; recall@k = hits / n_relevant;
NDCG@k = DCG / ideal DCG with gains 1/log2(rank + 2); MAP@k = sum over hit ranks of
precision@rank / min(n_relevant, k). Coverage = distinct recommended items / catalogue size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from implicit.cpu.topk import topk

from .als import AlsModel
from .matrix import InteractionMatrix, isin_sorted
from .progress import Progress, report
from .split import RELEVANCE_THRESHOLD, Split


@dataclass(frozen=True)
class Metrics:
    k: int
    precision: float
    recall: float
    ndcg: float
    map: float
    coverage: float
    n_users: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def ranking_metrics(
    recommended: np.ndarray,
    relevant_users: np.ndarray,
    relevant_items: np.ndarray,
    n_items: int,
    k: int = 10,
) -> Metrics:
    """Metrics for top-k lists.

    ``recommended``: (n_users, >=k) item indices, row ``u`` for user ``u``, -1 = empty slot.
    ``relevant_users`` / ``relevant_items``: index pairs of relevant held-out items. Users
    with no relevant pair are ignored.
    """
    recommended = np.asarray(recommended, dtype=np.int64)[:, :k]
    rel_u = np.asarray(relevant_users, dtype=np.int64)
    rel_i = np.asarray(relevant_items, dtype=np.int64)
    rel_keys = np.unique(rel_u * np.int64(n_items) + rel_i)
    n_rel = np.bincount(rel_keys // n_items, minlength=recommended.shape[0])
    users = np.flatnonzero(n_rel > 0)
    if users.size == 0:
        return Metrics(k, 0.0, 0.0, 0.0, 0.0, 0.0, 0)

    recs = recommended[users]
    keys = users[:, None] * np.int64(n_items) + recs
    hits = isin_sorted(keys, rel_keys) & (recs >= 0)
    n_rel_u = n_rel[users].astype(np.float64)
    n_hits = hits.sum(axis=1)

    discounts = 1.0 / np.log2(np.arange(recs.shape[1]) + 2.0)
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.cumsum(np.r_[0.0, 1.0 / np.log2(np.arange(k) + 2.0)])
    idcg = ideal[np.minimum(n_rel_u, k).astype(np.int64)]

    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, recs.shape[1] + 1)
    ap = (precision_at_rank * hits).sum(axis=1) / np.minimum(n_rel_u, k)

    shown = recs[recs >= 0]
    return Metrics(
        k=k,
        precision=float(np.mean(n_hits / k)),
        recall=float(np.mean(n_hits / n_rel_u)),
        ndcg=float(np.mean(dcg / idcg)),
        map=float(np.mean(ap)),
        coverage=float(np.unique(shown).size / n_items) if n_items else 0.0,
        n_users=int(users.size),
    )


def _relevant_idx(
    split: Split, train: InteractionMatrix, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    users, items = split.relevant(threshold)
    u = train.user_index.to_index(users)
    i = train.item_index.to_index(items)
    known = u >= 0  # an item unknown to the index can never be recommended: keep it as a miss
    return u[known], np.where(i >= 0, i, -2)[known]


def evaluate_model(
    model: AlsModel,
    train: InteractionMatrix,
    split: Split,
    k: int = 10,
    relevance_threshold: float = RELEVANCE_THRESHOLD,
    batch_size: int = 2048,
    progress: Progress | None = None,
) -> Metrics:
    """Metrics of ``model`` (trained on ``train``) against the held-out ratings of ``split``."""
    if model.user_index != train.user_index or model.item_index != train.item_index:
        raise ValueError("model and train matrix must share the same id indexes")
    rel_u, rel_i = _relevant_idx(split, train, relevance_threshold)
    users = np.unique(rel_u)
    recommended = np.full((train.shape[0], k), -1, dtype=np.int64)
    for start in range(0, users.size, batch_size):
        batch = users[start : start + batch_size]
        ids, _ = model.recommend_batch(batch, train.seen[batch], n=k)
        recommended[batch, : ids.shape[1]] = ids
        report(progress, "evaluate", min(start + batch_size, users.size), users.size)
    return _metrics_with_unknown(recommended, rel_u, rel_i, train.shape[1], k)


def top_k_dense(
    scores: np.ndarray, exclude_rows: sp.csr_matrix, k: int, *, inplace: bool = False
) -> np.ndarray:
    """Top-``k`` item indices per row of a dense score batch, excluding each row's items
    (``inplace`` lets it overwrite ``scores`` instead of copying a big batch)."""
    if not (inplace and scores.dtype == np.float32):
        scores = np.array(scores, dtype=np.float32, copy=True)
    rows = sp.csr_matrix(exclude_rows)
    r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    scores[r, rows.indices] = -np.inf
    k = min(k, scores.shape[1])
    n = scores.shape[1]
    if n >= _WIDE and k * 8 * _STRIDE <= n:
        ids = _top_k_wide(scores, k)
    else:
        part = np.argpartition(scores, n - k, axis=1)[:, n - k :]  # the k largest, unordered
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return np.where(np.isneginf(np.take_along_axis(scores, ids, axis=1)), -1, ids)


#: Catalogue width from which ``top_k_dense`` bounds each row by a strided sample first.
_WIDE = 8192
_STRIDE = 16


def _top_k_wide(scores: np.ndarray, k: int) -> np.ndarray:
    """Top-k per row without ``argpartition`` over the whole row: it degrades badly on the
    long runs of equal scores that EASE (zero outside its kept movies) and co-occurrence
    rows have (1.6 s instead of 0.1 s for 537 x 62k). The k-th largest of every
    ``_STRIDE``-th column is a lower bound of the row's k-th largest, so only the few cells
    at or above it are sorted; rows where that bound leaves thousands (a row of mostly
    equal scores) take the plain path.

    Two passes over the batch (one comparison, one ``flatnonzero``): rows that may be
    mostly equal are told apart on the sample, and only they are counted in full; the
    light rows' candidates come straight from the whole batch, without a copy of it."""
    rows, n = scores.shape
    sample = scores[:, ::_STRIDE]
    bound = np.partition(sample, sample.shape[1] - k, axis=1)[:, sample.shape[1] - k]
    suspect = np.count_nonzero(sample >= bound[:, None], axis=1) > _SUSPECT
    heavy = np.zeros(rows, dtype=bool)
    if suspect.any():
        counts = np.count_nonzero(scores[suspect] >= bound[suspect, None], axis=1)
        heavy[suspect] = counts > _MAX_CANDIDATES
    ids = np.empty((rows, k), dtype=np.int64)
    light = np.flatnonzero(~heavy)
    candidates = scores[light] if heavy.any() else scores  # no copy in the common case
    flat = np.flatnonzero(candidates >= bound[light, None])
    r, c = np.divmod(flat, n)
    order = np.lexsort((c, -candidates.ravel()[flat], r))
    r, c = r[order], c[order]
    first = np.searchsorted(r, np.arange(light.size))
    ids[light] = c[first[:, None] + np.arange(k)[None, :]]
    for row in np.flatnonzero(heavy):
        part = np.argpartition(scores[row], n - k)[n - k :]
        ids[row] = part[np.lexsort((part, -scores[row, part]))]
    return ids


#: Rows with more candidates than this after the sampled bound are ranked the plain way.
_MAX_CANDIDATES = 4096
#: Sampled cells at or above the bound past which a row is counted in full (a light row has
#: about k of them; a mostly equal one, thousands).
_SUSPECT = _MAX_CANDIDATES // (4 * _STRIDE)


def evaluate_scorer(
    score: Callable[[np.ndarray], np.ndarray],
    train: InteractionMatrix,
    split: Split,
    k: int = 10,
    relevance_threshold: float = RELEVANCE_THRESHOLD,
    users: np.ndarray | None = None,
    progress: Progress | None = None,
) -> Metrics:
    """Metrics of any model given as ``score(user_idx) -> dense (len, n_items) scores``.

    Users are scored in batches of about 32M cells (matrix ops, no per-user loop); ``users``
    restricts the evaluation to a sample of the test users (tuning on big data).
    """
    rel_u, rel_i = _relevant_idx(split, train, relevance_threshold)
    if users is not None:
        keep = isin_sorted(rel_u, np.sort(users))
        rel_u, rel_i = rel_u[keep], rel_i[keep]
    todo = np.unique(rel_u)
    batch_size = max(1, (1 << 25) // max(train.shape[1], 1))
    recommended = np.full((train.shape[0], k), -1, dtype=np.int64)
    for start in range(0, todo.size, batch_size):
        batch = todo[start : start + batch_size]
        ids = top_k_dense(score(batch), train.seen[batch], k)
        recommended[batch, : ids.shape[1]] = ids
        report(progress, "evaluate", min(start + batch_size, todo.size), todo.size)
    return _metrics_with_unknown(recommended, rel_u, rel_i, train.shape[1], k)


def evaluate_scorers(
    score: Callable[[np.ndarray], dict[str, np.ndarray]],
    names: Sequence[str],
    train: InteractionMatrix,
    split: Split,
    k: int = 10,
    relevance_threshold: float = RELEVANCE_THRESHOLD,
    progress: Progress | None = None,
    also_users: np.ndarray | None = None,
    on_batch: Callable[[np.ndarray, dict[str, np.ndarray]], None] | None = None,
    workers: int = 1,
    batch_cells: int = 1 << 25,
) -> dict[str, Metrics]:
    """:func:`evaluate_scorer` for several models scored from one computation per batch.

    ``score(user_idx)`` returns ``{name: dense (len, n_items) scores}`` for each of ``names``
    (the arrays are consumed); the hybrid and its components come from the same per-batch
    products, so evaluating all of them costs about as much as the hybrid alone.
    ``on_batch(user_idx, scores)`` sees every batch before it is ranked, and ``also_users``
    are scored for it too (without counting in the metrics): calibration reads its held-out
    scores there instead of scoring every test user a second time. ``workers`` batches run
    at once in threads: sparse products, z-scores and rankings are single-threaded numpy
    and SciPy calls that release the GIL, so a second batch fills the other core.
    """
    rel_u, rel_i = _relevant_idx(split, train, relevance_threshold)
    todo = np.unique(rel_u)
    users = todo if also_users is None else np.union1d(todo, also_users)
    batch_size = max(1, batch_cells // max(train.shape[1], 1))
    recommended = {name: np.full((train.shape[0], k), -1, dtype=np.int64) for name in names}
    starts = range(0, users.size, batch_size)
    done = 0

    def one(start: int) -> int:
        # Batches write disjoint rows of ``recommended`` (and of the caller's ``on_batch``
        # arrays), so they can run side by side.
        batch = users[start : start + batch_size]
        scores_by_name = score(batch)
        if on_batch is not None:
            on_batch(batch, scores_by_name)
        ranked = isin_sorted(batch, todo)
        every = bool(ranked.all())
        batch = batch if every else batch[ranked]
        seen = train.seen[batch]
        for name in names:
            batch_scores = scores_by_name.pop(name)
            ids = top_k_dense(batch_scores if every else batch_scores[ranked], seen, k,
                              inplace=True)  # fmt: skip
            recommended[name][batch, : ids.shape[1]] = ids
        return int(ranked.size)

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for n in pool.map(one, starts):
                done += n
                report(progress, "evaluate", done, users.size)
    else:
        for start in starts:
            done += one(start)
            report(progress, "evaluate", done, users.size)
    return {
        name: _metrics_with_unknown(rec, rel_u, rel_i, train.shape[1], k)
        for name, rec in recommended.items()
    }


def evaluate_popularity(
    train: InteractionMatrix,
    split: Split,
    k: int = 10,
    relevance_threshold: float = RELEVANCE_THRESHOLD,
    progress: Progress | None = None,
) -> Metrics:
    """The most-popular baseline: items ranked by number of likes in TRAIN, minus seen items."""
    rel_u, rel_i = _relevant_idx(split, train, relevance_threshold)
    users = np.unique(rel_u)
    # Popularity as a 1-factor model lets implicit's top-k do the per-user seen filtering.
    pop = train.popularity().astype(np.float32)[:, None]
    ids, scores = topk(
        pop,
        np.ones((users.size, 1), np.float32),
        min(k, pop.shape[0]),
        filter_query_items=train.seen[users],
    )
    ids = np.where(scores <= np.finfo(np.float32).min / 2, -1, ids)
    recommended = np.full((train.shape[0], k), -1, dtype=np.int64)
    recommended[users, : ids.shape[1]] = ids
    report(progress, "baseline", 1, 1)
    return _metrics_with_unknown(recommended, rel_u, rel_i, train.shape[1], k)


def _metrics_with_unknown(
    recommended: np.ndarray, rel_u: np.ndarray, rel_i: np.ndarray, n_items: int, k: int
) -> Metrics:
    """``ranking_metrics`` where unknown relevant items (index -2) count only as misses."""
    unknown = rel_i < 0
    if not unknown.any():
        return ranking_metrics(recommended, rel_u, rel_i, n_items, k)
    # Give each unknown relevant item its own phantom column past the catalogue.
    phantom = n_items + np.arange(unknown.sum())
    items = rel_i.copy()
    items[unknown] = phantom
    metrics = ranking_metrics(recommended, rel_u, items, n_items + int(unknown.sum()), k)
    shown = recommended[recommended >= 0]
    coverage = float(np.unique(shown).size / n_items) if n_items else 0.0
    return Metrics(**{**metrics.as_dict(), "coverage": coverage})


def compare(model_metrics: Metrics, baseline_metrics: Metrics) -> dict[str, dict[str, float]]:
    """Side-by-side table: for each metric the model value, baseline value and ratio."""
    table: dict[str, dict[str, float]] = {}
    for name in ("precision", "recall", "ndcg", "map", "coverage"):
        m, b = getattr(model_metrics, name), getattr(baseline_metrics, name)
        table[name] = {"model": m, "baseline": b, "ratio": m / b if b else float("inf")}
    return table
