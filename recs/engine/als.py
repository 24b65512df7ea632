"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) on top of ``implicit`` 0.7, CPU only.

Confidence convention
---------------------
``implicit`` 0.7 treats every stored value ``v`` as the confidence itself (``c_ui = v``,
preference 1) and, when its own ``alpha != 1``, multiplies the whole matrix by ``alpha`` inside
``fit``/``recalculate_user``/``explain``. With our like-weights in (0, ~2] that would give
``c_ui = alpha * w``, which is *below* the confidence 1 of a missing entry whenever
``alpha * w < 1`` (a 3-star rating would count less than "never seen"). So we pre-compute the
paper's ``c_ui = 1 + alpha * w`` ourselves (``AlsModel.confidence``) and always run implicit
with ``alpha=1.0``; every method of ``AlsModel`` applies the same transform, so train, real-time
recalculation and explanations agree.

Known dislikes ("not interested", negative like-weights ``w < 0``) follow implicit's own
convention for negative values: a stored ``-c`` means preference 0 with confidence ``c``
(``user_linear_equation`` in implicit: ``if confidence > 0: b += ...; else: confidence *= -1``).
We store ``-(1 + alpha * |w|)``, so the user vector is pushed away from that movie, and from
movies whose factors resemble it, harder than from a movie the user never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.topk import topk
from threadpoolctl import threadpool_limits

from .matrix import ConfidenceWeights, IdIndex, InteractionMatrix, Interactions, isin_sorted
from .params import StoredParams
from .progress import Progress, report

_FILTERED = np.finfo(np.float32).min / 2  # implicit's topk marks filtered slots with -FLT_MAX


@dataclass(frozen=True)
class AlsParams(StoredParams):
    """Hyper-parameters. Defaults come from ``tune`` on the planted synthetic data
    (reg x alpha grid, 64 factors, validation NDCG@10). At MovieLens-small scale (610 users x
    9,000 items, 100k rows) reg 50 / alpha 5 is best; at 1M rows reg 100 / alpha 5 is ~15%
    better, so the best regularization grows with the data: re-run ``tune`` on the real data.
    High regularization wins because most users have few likes, but too much at low alpha
    collapses the factors onto popularity (NDCG falls towards the baseline)."""

    factors: int = 64
    regularization: float = 50.0
    alpha: float = 5.0
    iterations: int = 15
    random_state: int = 42
    num_threads: int = 0  # 0 = all cores, used by implicit for fit and batch top-k
    calibration_samples: int = 20_000


@dataclass(eq=False)
class AlsModel:
    """Trained factors plus the id maps and settings needed to serve them.

    All ``*_idx`` arguments and results are dense indices of ``user_index`` / ``item_index``;
    convert with ``item_index.to_ids``. ``user_row_csr`` arguments of ``recalculate_user`` and
    ``explain`` are 1 x n_items rows of like-weights built with ``weights`` (``confidence``
    rows of ``user_matrix``), never raw ratings; ``recommend`` only uses its row's indices to
    exclude items, so pass the ``seen`` row there.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    params: AlsParams
    user_index: IdIndex
    item_index: IdIndex
    weights: ConfidenceWeights = field(default_factory=ConfidenceWeights)
    item_popularity: np.ndarray | None = None
    calibration: tuple[float, float] = (1.0, 0.0)
    # Derived arrays (Y^T Y, item factor norms); filling it twice is harmless.
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def user_matrix(self, rows: Interactions, now: int | None = None) -> InteractionMatrix:
        """One user's current interactions as a 1 x n_items matrix in this model's item space.

        The serving path for users who are new or changed ratings since training:
        ``m = model.user_matrix(rows)``, ``v = model.recalculate_user(m.confidence)``,
        ``model.recommend_for_vector(v, n, exclude_idx=m.seen.indices)``. Films unknown to
        the model are dropped (counted in ``m.dropped``).
        """
        single = Interactions(
            np.zeros(len(rows), dtype=np.int64),
            rows.item_ids,
            rows.scores,
            rows.kinds,
            rows.timestamps,
        )
        return single.to_matrix(
            self.weights,
            now=now,
            user_index=IdIndex(np.zeros(1, dtype=np.int64)),
            item_index=self.item_index,
        )

    def confidence(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Like-weights -> ALS confidence ``1 + alpha * |w|``, negative for dislikes
        (see module docstring)."""
        return confidence_scale(rows, self.params.alpha)

    # ---------------------------------------------------------------- scoring

    def score_items(self, user_vector: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Raw dot-product scores of ``item_idx`` for one user vector (for ``match_score``)."""
        return self.item_factors[np.asarray(item_idx)] @ np.asarray(user_vector, np.float32)

    def match_score(self, raw: np.ndarray | float) -> np.ndarray:
        """Raw score -> calibrated 0..1 affinity for ``Movie.matchScore``.

        Monotonic Platt scaling fitted at train time (see ``calibrate``): 0.5 means "as likely
        to be a film this user likes as not", so it reads the same across users and models.
        """
        a, b = self.calibration
        z = np.clip(a * np.asarray(raw, dtype=np.float64) + b, -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-z))

    def recommend_for_vector(
        self,
        user_vector: np.ndarray,
        n: int = 10,
        exclude_idx: np.ndarray | None = None,
        allowed_items_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` items for a user vector, best first; fewer if filters leave fewer."""
        scores = self.item_factors @ np.asarray(user_vector, dtype=np.float32)
        return _top_n(scores, n, exclude_idx, allowed_items_idx)

    def recommend(
        self,
        user_idx: int,
        user_row_csr: sp.csr_matrix | None = None,
        n: int = 10,
        exclude_idx: np.ndarray | None = None,
        allowed_items_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` for a trained user, excluding the items in ``user_row_csr`` (pass the
        ``seen`` row so disliked and watch-listed films are excluded too)."""
        exclude = [] if exclude_idx is None else [np.asarray(exclude_idx, dtype=np.int64)]
        if user_row_csr is not None:
            exclude.append(sp.csr_matrix(user_row_csr).indices.astype(np.int64))
        return self.recommend_for_vector(
            self.user_factors[user_idx],
            n,
            exclude_idx=np.concatenate(exclude) if exclude else None,
            allowed_items_idx=allowed_items_idx,
        )

    def recommend_batch(
        self, user_idx: np.ndarray, exclude_rows: sp.csr_matrix | None, n: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` for many trained users at once (implicit's multi-threaded top-k).

        ``exclude_rows`` has one row per user in ``user_idx``. Returns (len(users), n) arrays;
        slots left empty by filtering hold item -1 and score -inf.
        """
        user_idx = np.asarray(user_idx, dtype=np.int64)
        n = min(n, self.n_items)
        ids, scores = topk(
            self.item_factors,
            self.user_factors[user_idx],
            n,
            filter_query_items=None if exclude_rows is None else sp.csr_matrix(exclude_rows),
            num_threads=self.params.num_threads,
        )
        empty = scores <= _FILTERED
        ids = np.where(empty, -1, ids).astype(np.int64)
        return ids, np.where(empty, -np.inf, scores).astype(np.float32)

    def popular(self, n: int = 10, exclude_idx: np.ndarray | None = None) -> np.ndarray:
        """Most-liked items in the training data: the cold-start fallback."""
        if self.item_popularity is None:
            raise ValueError("model has no item_popularity")
        valid = np.ones(self.n_items, dtype=bool)
        if exclude_idx is not None:
            valid[np.asarray(exclude_idx, dtype=np.int64)] = False
        order = np.argsort(-self.item_popularity, kind="stable")
        return order[valid[order]][:n]

    # ---------------------------------------------------- real-time user vectors

    def _yty(self) -> np.ndarray:
        if "yty" not in self._cache:
            y = self.item_factors.astype(np.float64)
            self._cache["yty"] = y.T @ y
        return self._cache["yty"]

    def _user_system(self, user_row_csr: sp.csr_matrix) -> tuple[Any, np.ndarray, np.ndarray]:
        """Cholesky of ``Y^T C_u Y + reg I``, the row's items and ``c_uj p_uj`` per item
        (the confidence of a liked item, 0 for a disliked one: it shapes ``C_u`` only)."""
        row = self.confidence(sp.csr_matrix(user_row_csr))
        if row.shape != (1, self.n_items):
            raise ValueError(f"user row must have shape (1, {self.n_items})")
        items, signed = row.indices.astype(np.int64), row.data.astype(np.float64)
        conf = np.abs(signed)
        y = self.item_factors[items].astype(np.float64)
        a = self._yty() + self.params.regularization * np.eye(self.params.factors)
        a += (y * (conf - 1.0)[:, None]).T @ y
        return scipy.linalg.cho_factor(a), items, np.where(signed > 0, conf, 0.0)

    def recalculate_user(self, user_row_csr: sp.csr_matrix) -> np.ndarray:
        """Exact least-squares user vector ``(Y^T C_u Y + reg I)^-1 Y^T C_u p_u``.

        For a user who is new to the model or changed ratings since training: recommendations
        update immediately without retraining. An empty row gives the zero vector (cold start:
        fall back to ``popular``).
        """
        factor, items, conf = self._user_system(user_row_csr)
        b = self.item_factors[items].astype(np.float64).T @ conf
        return scipy.linalg.cho_solve(factor, b).astype(np.float32)

    def explain(
        self, user_row_csr: sp.csr_matrix, item_idx: int, n: int = 3
    ) -> list[tuple[int, float]]:
        """The user's own liked items that contribute most to ``item_idx``'s score.

        Same decomposition as implicit's ``explain``: score = sum_j (y_i^T W_u y_j) c_uj with
        ``W_u = (Y^T C_u Y + reg I)^-1``. Only positive contributions are returned, best first.
        """
        factor, items, conf = self._user_system(user_row_csr)
        if items.size == 0:
            return []
        weighted = scipy.linalg.cho_solve(factor, self.item_factors[item_idx].astype(np.float64))
        contrib = (self.item_factors[items].astype(np.float64) @ weighted) * conf
        order = np.argsort(-contrib, kind="stable")[:n]
        return [(int(items[j]), float(contrib[j])) for j in order if contrib[j] > 0]

    def explain_batch(
        self, user_row_csr: sp.csr_matrix, item_idx: np.ndarray, n: int = 3
    ) -> list[list[tuple[int, float]]]:
        """``explain`` for several items with one factorisation of the user's system.

        Serving explains a whole list at once; this solves ``W_u Y_items^T`` in one call
        instead of re-factorising per item. Same results as ``explain``, item by item.
        """
        item_idx = np.asarray(item_idx, dtype=np.int64)
        factor, items, conf = self._user_system(user_row_csr)
        if items.size == 0:
            return [[] for _ in range(item_idx.size)]
        weighted = scipy.linalg.cho_solve(factor, self.item_factors[item_idx].astype(np.float64).T)
        contrib = (self.item_factors[items].astype(np.float64) @ weighted) * conf[:, None]
        result = []
        for column in contrib.T:
            order = np.argsort(-column, kind="stable")[:n]
            result.append([(int(items[j]), float(column[j])) for j in order if column[j] > 0])
        return result

    # ---------------------------------------------------------- item similarity

    def _item_norms(self) -> np.ndarray:
        """Item factor norms: cosine from the shared (memory-mapped) factors and these, not
        from a normalised copy of them (16 MB private to every worker at 62k movies)."""
        if "norms" not in self._cache:
            norms = np.linalg.norm(self.item_factors, axis=1)
            self._cache["norms"] = np.maximum(norms, 1e-10).astype(np.float32)
        return self._cache["norms"]

    def similar_items(
        self, item_idx: int, n: int = 10, allowed_items_idx: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` items by cosine similarity of item factors, excluding the item itself."""
        norms = self._item_norms()
        y = self.item_factors
        scores = (y @ y[item_idx]) / (norms * norms[item_idx])
        return _top_n(scores, n, np.array([item_idx]), allowed_items_idx)

    # ---------------------------------------------------------------- calibration

    def calibrate(
        self,
        pos_user_idx: np.ndarray,
        pos_item_idx: np.ndarray,
        exclude: sp.csr_matrix | None = None,
        seed: int = 0,
    ) -> tuple[float, float]:
        """Fit Platt scaling ``sigmoid(a * raw + b)`` on positives vs random negatives.

        Negatives are uniformly sampled items for the same users (one per positive) that are
        not positives and not in ``exclude``. With balanced classes the result reads as "how
        likely is this film one the user would like, versus a random film": 0.5 is a coin flip.
        Prefer held-out positives (``train`` falls back to training likes, which are
        optimistic). Stores and returns (a, b); ``a`` is kept > 0 so the map stays monotonic.
        """
        rng = np.random.default_rng(seed)
        pos_u = np.asarray(pos_user_idx, dtype=np.int64)
        pos_i = np.asarray(pos_item_idx, dtype=np.int64)
        neg_i = rng.integers(0, self.n_items, size=pos_u.size)
        keep = ~isin_sorted(pos_u * self.n_items + neg_i, np.sort(pos_u * self.n_items + pos_i))
        if exclude is not None:
            # Looked up pair by pair (a binary search in each sampled row), not by sorting
            # every stored entry: at 25M ratings that sort was seconds of the training.
            keep &= np.asarray(exclude[pos_u, neg_i]).ravel() == 0
        neg_u, neg_i = pos_u[keep], neg_i[keep]
        x = np.concatenate(
            [
                np.einsum("ij,ij->i", self.user_factors[pos_u], self.item_factors[pos_i]),
                np.einsum("ij,ij->i", self.user_factors[neg_u], self.item_factors[neg_i]),
            ]
        ).astype(np.float64)
        y = np.r_[np.ones(pos_u.size), np.zeros(neg_u.size)]
        self.calibration = _fit_platt(x, y)
        return self.calibration


def confidence_scale(rows: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """``sign(w) * (1 + alpha * |w|)`` of every stored like-weight ``w`` (module docstring)."""
    out = sp.csr_matrix(rows, dtype=np.float32, copy=True)
    out.data = (np.sign(out.data) * (1.0 + alpha * np.abs(out.data))).astype(np.float32)
    return out


def _top_n(
    scores: np.ndarray,
    n: int,
    exclude_idx: np.ndarray | None,
    allowed_items_idx: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``n`` best allowed, non-excluded entries, best first."""
    valid = np.ones(scores.size, dtype=bool)
    if allowed_items_idx is not None:
        valid[:] = False
        valid[np.asarray(allowed_items_idx, dtype=np.int64)] = True
    if exclude_idx is not None:
        valid[np.asarray(exclude_idx, dtype=np.int64)] = False
    candidates = np.flatnonzero(valid)
    n = min(n, candidates.size)
    if n <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    cand_scores = scores[candidates]
    top = np.argpartition(-cand_scores, n - 1)[:n]
    top = top[np.argsort(-cand_scores[top], kind="stable")]
    return candidates[top], cand_scores[top].astype(np.float32)


def _fit_platt(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> tuple[float, float]:
    """1-D logistic regression by Newton's method (two parameters, converges in a few steps)."""
    if x.size == 0 or y.min() == y.max():
        return (1.0, 0.0)
    scale = float(x.std()) or 1.0
    xs = (x - x.mean()) / scale
    w = np.zeros(2)
    design = np.c_[xs, np.ones_like(xs)]
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        grad = design.T @ (p - y) + ridge * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    a = max(w[0] / scale, 1e-6)
    b = w[1] - w[0] * x.mean() / scale
    return (float(a), float(b))


def train(
    matrix: InteractionMatrix,
    params: AlsParams | None = None,
    *,
    progress: Progress | None = None,
    calibration_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> AlsModel:
    """Fit ALS on ``matrix.confidence`` and calibrate ``match_score``.

    ``calibration_pairs`` = (user_idx, item_idx) of held-out liked items; without them the
    calibration uses a sample of the training likes. BLAS is limited to one thread during
    the fit because implicit parallelises itself and nested BLAS threads slow it down badly.
    """
    params = params or AlsParams()
    conf = matrix.confidence
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=1.0,  # confidence is pre-computed as 1 + alpha * w, see module docstring
            dtype=np.float32,
            iterations=params.iterations,
            calculate_training_loss=False,
            num_threads=params.num_threads,
            random_state=params.random_state,
        )

        def on_iteration(iteration: int, _elapsed: float, _loss: float | None) -> None:
            report(progress, "fit", iteration + 1, params.iterations)

        als.fit(confidence_scale(conf, params.alpha), show_progress=False, callback=on_iteration)

    model = AlsModel(
        user_factors=np.ascontiguousarray(als.user_factors, dtype=np.float32),
        item_factors=np.ascontiguousarray(als.item_factors, dtype=np.float32),
        params=params,
        user_index=matrix.user_index,
        item_index=matrix.item_index,
        weights=matrix.weights,
        item_popularity=matrix.popularity(),
    )

    if calibration_pairs is None:
        liked = np.flatnonzero(conf.data > 0)
        rng = np.random.default_rng(params.random_state)
        size = min(params.calibration_samples, liked.size)
        take = np.sort(liked[rng.choice(liked.size, size=size, replace=False)])
        rows = np.searchsorted(conf.indptr, take, side="right") - 1
        calibration_pairs = (rows, conf.indices[take].astype(np.int64))
    model.calibrate(*calibration_pairs, exclude=matrix.seen, seed=params.random_state)
    report(progress, "calibrate", 1, 1)
    return model
