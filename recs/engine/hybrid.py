"""The served model: implicit ALS, EASE and time-window co-occurrence, z-scored and blended.

Why a blend: on MovieLens EASE (item-item) ranks better than ALS, ALS generalises to rarer
movies, the co-occurrence in time (``recs.engine.cooc``) sees the order of each history that
both ignore, and they err differently, so a weighted sum of their per-user z-scores beats
each. The weights (and an optional popularity penalty that trades accuracy for catalogue
coverage) are learned on a validation split (``recs.engine.tune``); the default is the best
NDCG, or the widest coverage among settings within a small NDCG tolerance of it.

Scores of one user are ``w * z(als) + (1 - w) * z(ease) + c * z(cooc) - penalty * z(log
popularity)`` where ``z`` standardises over the whole catalogue. Everything is computed from
the user's *current* feedback at serving time (the ALS vector is re-solved, the EASE and
co-occurrence rows are their signal row), so a new rating changes the next list without
retraining. "Not interested" is a negative entry in both rows (ALS: preference 0 with high
confidence; EASE and co-occurrence: ``-weights.not_interested``), so movies like the
dismissed one sink in that user's list only: serving rows never reach the shared model.
``match`` maps the blended score to
the probability the user likes the movie (isotonic calibration on held-out ratings), and
``explain`` splits the blended score into the user's own movies' contributions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.linalg.blas import saxpy

from . import cooc as cooc_engine
from . import ease as ease_engine
from .als import AlsModel, AlsParams
from .matrix import KIND_RATING, ConfidenceWeights, IdIndex, InteractionMatrix, Interactions
from .params import StoredParams

#: Ratings at or above this count as "liked" for relevance and calibration.
LIKE_THRESHOLD = 4.0
_EPS = 1e-6


@dataclass(frozen=True)
class BlendParams(StoredParams):
    """How the two models combine (see the module docstring) and how EASE reads ratings.

    EASE reads a rating as ``stars / 5``; a rating below the confidence weights' like
    threshold becomes ``low_rating_value`` instead: a weak negative by default, so a disliked
    film pushes similar ones down. (On ml-100k a weak *positive*, 0.2-0.4, ranks about 0.5%
    better, since rating a film at all says the user watched it; we prefer that a one-star
    rating never pulls similar films up.)
    """

    als_weight: float = 0.5
    popularity_penalty: float = 0.0
    low_rating_value: float = -0.1
    cooc_weight: float = 0.0


@dataclass(frozen=True)
class HybridParams:
    als: AlsParams = field(default_factory=AlsParams)
    ease: ease_engine.EaseParams = field(default_factory=ease_engine.EaseParams)
    blend: BlendParams = field(default_factory=BlendParams)
    cooc: cooc_engine.CoocParams = field(default_factory=cooc_engine.CoocParams)

    def to_dict(self) -> dict[str, Any]:
        return {
            "als": self.als.to_dict(),
            "ease": self.ease.to_dict(),
            "blend": self.blend.to_dict(),
            "cooc": self.cooc.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridParams:
        return cls(
            als=AlsParams.from_dict(data.get("als", {})),
            ease=ease_engine.EaseParams.from_dict(data.get("ease", {})),
            blend=BlendParams.from_dict(data.get("blend", {})),
            cooc=cooc_engine.CoocParams.from_dict(data.get("cooc", {})),
        )


def signal_matrix(
    rows: Interactions,
    weights: ConfidenceWeights,
    low_rating_value: float,
    *,
    now: int | None,
    user_index: IdIndex,
    item_index: IdIndex,
    mapped: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> sp.csr_matrix:
    """EASE's input: stars / 5 for ratings (``low_rating_value`` below the like threshold),
    the kind weights of ``weights`` for list signals (negative for "not interested"), with
    the same time decay. ``mapped``: ``rows.mapped(...)`` with the same arguments, if the
    caller has it (it is not modified)."""
    u, i, w = mapped or rows.mapped(weights, now, user_index, item_index)
    w = w.copy()
    rated = rows.kinds == KIND_RATING
    stars = rows.scores[rated] / np.float32(5.0)
    stars = np.where(
        rows.scores[rated] < weights.rating_threshold, np.float32(low_rating_value), stars
    )
    if weights.half_life_days is not None and now is not None:
        age_days = np.maximum(now - rows.timestamps[rated], 0) / 86_400
        stars = stars * np.exp2(-age_days / weights.half_life_days)
    w[rated] = stars.astype(np.float32)
    keep = (u >= 0) & (i >= 0) & (w != 0)
    out = sp.csr_matrix(
        (w[keep], (u[keep], i[keep])), shape=(len(user_index), len(item_index)), dtype=np.float32
    )
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def zscore_rows(scores: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Standardise each row (one user's scores over the catalogue) as float32.

    ``inplace`` reuses a float32 ``scores`` (a fresh product the caller drops): two passes
    and no temporaries of the batch's size, which is what an evaluation of 10,000 users
    over 62k movies spends its time on otherwise. The variance accumulates in float64."""
    out = scores if inplace and scores.dtype == np.float32 else np.array(scores, np.float32)
    out -= out.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", out, out, dtype=np.float64) / max(out.shape[1], 1)
    out *= (1.0 / np.maximum(np.sqrt(var), _EPS)).astype(np.float32)[:, None]
    return out


def popularity_z(popularity: np.ndarray) -> np.ndarray:
    logp = np.log1p(np.asarray(popularity, dtype=np.float64))
    return ((logp - logp.mean()) / max(float(logp.std()), _EPS)).astype(np.float32)


def blend(
    z_als: np.ndarray,
    z_ease: np.ndarray | None,
    pop_z: np.ndarray,
    params: BlendParams,
    z_cooc: np.ndarray | None = None,
) -> np.ndarray:
    """The blended score of already z-scored components (batch x items).

    One new array, the other terms added in place (BLAS ``axpy``): over an evaluation
    batch of 537 users x 62k movies the naive expression spent three times as long making
    and freeing temporaries as adding."""
    out = np.multiply(z_als, np.float32(1.0 if z_ease is None else params.als_weight))
    flat = out.reshape(-1)  # a view: ``out`` is a fresh C-contiguous array
    if z_ease is not None and params.als_weight < 1:
        _axpy(z_ease, flat, 1.0 - params.als_weight)
    if z_cooc is not None and params.cooc_weight:
        _axpy(z_cooc, flat, params.cooc_weight)
    if params.popularity_penalty:
        out -= (np.float32(params.popularity_penalty) * pop_z)[None, :]
    return out


def _axpy(x: np.ndarray, flat_out: np.ndarray, a: float) -> None:
    """``flat_out += a * x`` in place (float32, contiguous)."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    result = saxpy(x, flat_out, a=float(a))
    if not np.shares_memory(result, flat_out):  # BLAS had to copy: keep the contract
        flat_out[:] = result


# ------------------------------------------------------------------------- calibration


def fit_isotonic(x: np.ndarray, y: np.ndarray, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Monotone map score -> P(like) by pool-adjacent-violators over quantile bins.

    Returns knots (xs, ps) for ``np.interp``; each knot is a bin's mean score and the pooled
    like rate, so the curve is flat outside the data and never decreasing.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return np.zeros(1), np.full(1, 0.5)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    edges = np.unique(np.linspace(0, x.size, min(bins, x.size) + 1).astype(np.int64))
    sums_x = np.add.reduceat(x, edges[:-1])
    sums_y = np.add.reduceat(y, edges[:-1])
    counts = np.diff(edges).astype(np.float64)
    # Pool adjacent violators on (mean y, weight) blocks.
    blocks: list[list[float]] = []  # [sum_y, count, sum_x]
    for sy, c, sx in zip(sums_y, counts, sums_x, strict=True):
        blocks.append([sy, c, sx])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            sy2, c2, sx2 = blocks.pop()
            blocks[-1][0] += sy2
            blocks[-1][1] += c2
            blocks[-1][2] += sx2
    xs = np.array([b[2] / b[1] for b in blocks])
    ps = np.array([b[0] / b[1] for b in blocks])
    return xs, np.clip(ps, 0.0, 1.0)


def reliability_table(
    predicted: np.ndarray, observed: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Predicted vs observed like rate per decile of prediction (for the docs and admin)."""
    predicted = np.asarray(predicted, dtype=np.float64)
    observed = np.asarray(observed, dtype=np.float64)
    if predicted.size == 0:
        return []
    order = np.argsort(predicted, kind="stable")
    table = []
    for part in np.array_split(order, min(bins, predicted.size)):
        table.append(
            {
                "predicted": round(float(predicted[part].mean()), 4),
                "observed": round(float(observed[part].mean()), 4),
                "n": int(part.size),
            }
        )
    return table


# ----------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class UserScores:
    """One user's blended scores over the catalogue, computed once per request and shared
    by the list, its explanations and ``matchScore``."""

    scores: np.ndarray  # (n_items,) blended
    seen_idx: np.ndarray  # every item the user interacted with
    rated: dict[int, float]  # item index -> the user's current star rating
    confidence: sp.csr_matrix  # ALS like-weights row
    signal: sp.csr_matrix  # EASE (and co-occurrence) signal row
    als_vector: np.ndarray
    als_std: float
    ease_std: float
    cooc_std: float = 1.0
    # The co-occurrence rows the signal row selects, read once for the request: its scores
    # and explanations share them (``recs.engine.rows`` says why rows are read, not mapped).
    cooc_rows: cooc_engine.CoocRows | None = None

    @property
    def is_empty(self) -> bool:
        """No sign of what the user likes: dislikes alone only reorder a list, never make one."""
        return not (self.confidence.data > 0).any() and not (self.signal.data > 0).any()

    @property
    def liked_idx(self) -> np.ndarray:
        """Items the user gave a positive signal (the only ones that can explain a pick)."""
        liked = np.concatenate(
            [
                self.confidence.indices[self.confidence.data > 0],
                self.signal.indices[self.signal.data > 0],
            ]
        )
        return np.unique(liked).astype(np.int64)


@dataclass(eq=False)
class HybridModel:
    als: AlsModel
    ease: ease_engine.EaseModel | None
    params: HybridParams
    calibration_x: np.ndarray = field(default_factory=lambda: np.zeros(1))
    calibration_p: np.ndarray = field(default_factory=lambda: np.full(1, 0.5))
    cooc: cooc_engine.CoocModel | None = None
    _pop_z: np.ndarray | None = field(default=None, repr=False)

    @property
    def item_index(self) -> IdIndex:
        return self.als.item_index

    @property
    def user_index(self) -> IdIndex:
        return self.als.user_index

    @property
    def n_items(self) -> int:
        return self.als.n_items

    @property
    def n_users(self) -> int:
        return self.als.n_users

    @property
    def weights(self) -> ConfidenceWeights:
        return self.als.weights

    @property
    def pop_z(self) -> np.ndarray:
        if self._pop_z is None:
            pop = self.als.item_popularity
            self._pop_z = popularity_z(pop if pop is not None else np.zeros(self.n_items))
        return self._pop_z

    # -------------------------------------------------------------- batch scoring

    def component_scores(
        self, user_idx: np.ndarray, signal_rows: sp.csr_matrix
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """z-scored (ALS, EASE, co-occurrence) scores of trained users (evaluation)."""
        als = self.als.user_factors[np.asarray(user_idx)] @ self.als.item_factors.T
        z_als = zscore_rows(als, inplace=True)
        z_ease = z_cooc = None
        if self.ease is not None:
            z_ease = zscore_rows(self.ease.scores(signal_rows), inplace=True)
        if self.cooc is not None:
            z_cooc = zscore_rows(self.cooc.scores(signal_rows), inplace=True)
        return z_als, z_ease, z_cooc

    def score_batch(self, user_idx: np.ndarray, signal_rows: sp.csr_matrix) -> np.ndarray:
        z_als, z_ease, z_cooc = self.component_scores(user_idx, signal_rows)
        return blend(z_als, z_ease, self.pop_z, self.params.blend, z_cooc)

    # ------------------------------------------------------------------ serving

    def user_scores(self, rows: Interactions, now: int | None = None) -> UserScores:
        """Scores for one user from their current feedback rows (any user id)."""
        single = Interactions(
            np.zeros(len(rows), dtype=np.int64), rows.item_ids, rows.scores, rows.kinds,
            rows.timestamps,
        )  # fmt: skip
        one = IdIndex(np.zeros(1, dtype=np.int64))
        matrix = single.to_matrix(self.weights, now=now, user_index=one, item_index=self.item_index)
        signal = signal_matrix(
            single, self.weights, self.params.blend.low_rating_value, now=now,
            user_index=one, item_index=self.item_index,
        )  # fmt: skip
        vector = self.als.recalculate_user(matrix.confidence)
        raw_als = (self.als.item_factors @ vector)[None, :]
        als_std = float(max(raw_als.std(), _EPS))
        z_als = zscore_rows(raw_als)
        z_ease, ease_std = None, 1.0
        if self.ease is not None:
            raw_ease = self.ease.scores(signal)
            ease_std = float(max(raw_ease.std(), _EPS))
            z_ease = zscore_rows(raw_ease)
        z_cooc, cooc_std, cooc_rows = None, 1.0, None
        if self.cooc is not None:
            cooc_rows = self.cooc.read(signal)
            raw_cooc = self.cooc.scores(signal, cooc_rows)
            cooc_std = float(max(raw_cooc.std(), _EPS))
            z_cooc = zscore_rows(raw_cooc)
        scores = blend(z_als, z_ease, self.pop_z, self.params.blend, z_cooc)[0]
        rated_mask = single.kinds == KIND_RATING
        rated_idx = self.item_index.to_index(single.item_ids[rated_mask])
        rated = {
            int(i): float(s)
            for i, s in zip(rated_idx, single.scores[rated_mask], strict=True)
            if i >= 0
        }
        return UserScores(
            scores=scores,
            seen_idx=matrix.seen.indices.astype(np.int64),
            rated=rated,
            confidence=matrix.confidence,
            signal=signal,
            als_vector=vector,
            als_std=als_std,
            ease_std=ease_std,
            cooc_std=cooc_std,
            cooc_rows=cooc_rows,
        )

    def recommend(
        self,
        state: UserScores,
        n: int,
        exclude_idx: np.ndarray | None = None,
        allowed_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` item indices and blended scores, best first."""
        from .als import _top_n

        return _top_n(state.scores, n, exclude_idx, allowed_idx)

    def match(self, state: UserScores, item_idx: np.ndarray) -> np.ndarray:
        """P(the user likes each movie): their own rating / 5 when they rated it, else the
        isotonic calibration of the blended score fitted on held-out ratings."""
        item_idx = np.asarray(item_idx, dtype=np.int64)
        out = np.interp(state.scores[item_idx], self.calibration_x, self.calibration_p)
        for k, i in enumerate(item_idx.tolist()):
            if i in state.rated:
                out[k] = min(max(state.rated[i] / 5.0, 0.0), 1.0)
        return out

    def contributions(
        self, state: UserScores, item_idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the user's movies, their contribution to each asked movie's blended score).

        Exact for the blend: the z-scoring is affine per user, so each component's score
        splits over the user's movies (ALS: ``c_uj y_i^T W_u y_j``; EASE: ``x_uj B[j, i]``;
        co-occurrence: ``x_uj S[j, i]``) and is divided by that component's spread before
        weighting. Differences between two movies' blended scores (without popularity
        penalty) equal their column differences.
        """
        item_idx = np.asarray(item_idx, dtype=np.int64)
        w = self.params.blend.als_weight if self.ease is not None else 1.0
        total: dict[int, np.ndarray] = {}
        if state.confidence.nnz and w > 0:
            factor, items, conf = self.als._user_system(state.confidence)
            y = self.als.item_factors
            weighted = scipy.linalg.cho_solve(factor, y[item_idx].astype(np.float64).T)
            contrib = (y[items].astype(np.float64) @ weighted) * conf[:, None]
            contrib *= w / state.als_std
            for j, row in zip(items.tolist(), contrib, strict=True):
                total[j] = total.get(j, 0.0) + row
        if self.ease is not None and state.signal.nnz and w < 1:
            items, contrib = self.ease.contributions(state.signal, item_idx)
            contrib = contrib.astype(np.float64) * ((1.0 - w) / state.ease_std)
            for j, row in zip(items.tolist(), contrib, strict=True):
                total[j] = total.get(j, 0.0) + row
        c = self.params.blend.cooc_weight
        if self.cooc is not None and state.signal.nnz and c:
            items, contrib = self.cooc.contributions(state.signal, item_idx, state.cooc_rows)
            contrib = contrib.astype(np.float64) * (c / state.cooc_std)
            for j, row in zip(items.tolist(), contrib, strict=True):
                total[j] = total.get(j, 0.0) + row
        if not total:
            return np.zeros(0, np.int64), np.zeros((0, item_idx.size))
        sources = np.fromiter(total, dtype=np.int64)
        return sources, np.vstack([total[j] for j in sources.tolist()])

    def explain(self, state: UserScores, item_idx: np.ndarray, n: int = 3) -> list[list[int]]:
        """Per asked movie, the user's own liked movies contributing most (and positively)
        to its score, best first: each recommendation gets its own reasons. A disliked movie
        can add to a score too (EASE: a negative signal times a negative weight), but
        "because you disliked X" is no reason to show a film, so those are left out."""
        sources, matrix = self.contributions(state, item_idx)
        if not sources.size:
            return [[] for _ in range(np.asarray(item_idx).size)]
        liked = np.isin(sources, state.liked_idx)
        sources, matrix = sources[liked], matrix[liked]
        result = []
        for column in matrix.T:
            order = np.argsort(-column, kind="stable")[:n]
            result.append([int(sources[j]) for j in order if column[j] > 0])
        return result

    def similar_items(self, item_idx: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Item-factor cosine neighbours (shared structure: learnt from public signals only)."""
        return self.als.similar_items(item_idx, n=n)


def train_hybrid(
    rows: Interactions,
    params: HybridParams,
    *,
    weights: ConfidenceWeights,
    now: int | None,
    user_index: IdIndex | None = None,
    item_index: IdIndex | None = None,
    progress: Any = None,
) -> tuple[HybridModel, InteractionMatrix, sp.csr_matrix]:
    """Fit the blended models on ``rows`` (those with no weight are skipped); returns the
    model, its ALS matrix and the EASE / co-occurrence signal rows."""
    from .als import train as als_train

    user_index = user_index if user_index is not None else IdIndex.from_values(rows.user_ids)
    item_index = item_index if item_index is not None else IdIndex.from_values(rows.item_ids)
    mapped = rows.mapped(weights, now, user_index, item_index)  # shared by both matrices
    matrix = rows.to_matrix(
        weights, now=now, user_index=user_index, item_index=item_index, mapped=mapped
    )
    signal = signal_matrix(
        rows, weights, params.blend.low_rating_value, now=now,
        user_index=user_index, item_index=item_index, mapped=mapped,
    )  # fmt: skip
    del mapped
    als = als_train(matrix, params.als, progress=progress)
    ease = ease_engine.fit(signal, params.ease) if params.blend.als_weight < 1 else None
    cooc = None
    if params.blend.cooc_weight:
        cooc = cooc_engine.fit(rows, matrix.user_index, matrix.item_index, params.cooc)
    return HybridModel(als=als, ease=ease, params=params, cooc=cooc), matrix, signal
