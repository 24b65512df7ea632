"""Interaction rows -> id maps + confidence CSR (user x item), fully vectorised.

Ratings are explicit feedback but ALS (Hu, Koren & Volinsky 2008) models implicit
*preference*: a low rating is evidence the user did not like the film, so it must not become
a positive. Ratings below ``ConfidenceWeights.rating_threshold`` are therefore dropped from the
confidence matrix (they still appear in ``InteractionMatrix.seen`` so the film is never
recommended back to the user).

"Not interested" (``KIND_NOT_INTERESTED``) is the one explicit negative: its weight is
``-ConfidenceWeights.not_interested``, kept in the confidence matrix as a negative entry
(implicit's convention for a known dislike: preference 0 with confidence ``|c|``). It only
ever comes from the serving path's per-user rows; the training extract never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .params import StoredParams

KIND_RATING = 0
KIND_FAVORITE = 1
KIND_WATCHLIST = 2
KIND_PLAYLIST = 3
KIND_NOT_INTERESTED = 4
KINDS = {
    "rating": KIND_RATING,
    "favorite": KIND_FAVORITE,
    "watchlist": KIND_WATCHLIST,
    "playlist": KIND_PLAYLIST,
    "not_interested": KIND_NOT_INTERESTED,
}

SECONDS_PER_DAY = 86_400


def isin_sorted(values: np.ndarray, sorted_reference: np.ndarray) -> np.ndarray:
    """``np.isin`` for a pre-sorted reference via ``searchsorted``.

    numpy 2.x's ``isin`` on large int arrays takes a hash path that is ~10x slower here.
    """
    values = np.asarray(values)
    if sorted_reference.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_reference, values), sorted_reference.size - 1)
    return sorted_reference[pos] == values


def distinct_counts(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct ids, occurrences), by ``bincount`` when the ids are small non-negative
    integers (database keys) and by sorting otherwise."""
    if ids.size and ids.dtype.kind in "iu" and ids.min() >= 0 and ids.max() < 4 * ids.size:
        counts = np.bincount(ids.astype(np.intp, copy=False))
        present = np.flatnonzero(counts)
        return present.astype(ids.dtype), counts[present]
    return np.unique(ids, return_counts=True)


class IdIndex:
    """Bidirectional map between external ids (e.g. Django pks) and dense row indices.

    Index ``i`` is the position of the id in ``ids``; lookups are vectorised through a sorted
    copy, so mapping a million ids costs one ``searchsorted``, or through a lookup table when
    the ids are database keys (non-negative integers no larger than a few times their
    count): mapping the 25M rows of a MovieLens-25M training then costs a gather, not 25M
    binary searches.
    """

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError("ids must be one-dimensional")
        if ids.dtype == object:
            raise TypeError("ids must be a numeric or fixed-width string array, not object")
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        if sorted_ids.size > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
            raise ValueError("ids must be unique")
        self.ids = ids
        self._order = order
        self._sorted = sorted_ids
        self._table: np.ndarray | None = None
        if ids.size and ids.dtype.kind in "iu" and sorted_ids[0] >= 0:
            top = int(sorted_ids[-1])
            if top < 4 * ids.size + 1024:
                self._table = np.full(top + 1, -1, dtype=np.int64)
                self._table[ids] = np.arange(ids.size, dtype=np.int64)

    @classmethod
    def from_values(cls, values: np.ndarray) -> IdIndex:
        """Index of the distinct values, in sorted order (deterministic for equal inputs)."""
        return cls(distinct_counts(np.asarray(values))[0])

    def __len__(self) -> int:
        return int(self.ids.size)

    def __contains__(self, external_id: object) -> bool:
        return bool(self.to_index(np.asarray([external_id]))[0] >= 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdIndex) and np.array_equal(self.ids, other.ids)

    __hash__ = None  # type: ignore[assignment]

    def to_index(self, ids: np.ndarray, *, strict: bool = False) -> np.ndarray:
        """External ids -> int64 indices; unknown ids -> -1 (``KeyError`` if strict)."""
        ids = np.asarray(ids)
        if self._table is not None and ids.dtype.kind in "iu":
            return self._lookup(ids, strict)
        if self._sorted.size == 0:
            pos = np.zeros(ids.shape, dtype=np.int64)
            found = np.zeros(ids.shape, dtype=bool)
        else:
            pos = np.searchsorted(self._sorted, ids)
            pos = np.minimum(pos, self._sorted.size - 1)
            found = self._sorted[pos] == ids
        if strict and not np.all(found):
            missing = ids[~found]
            raise KeyError(f"{missing.size} unknown ids, e.g. {missing[:5].tolist()}")
        return np.where(found, self._order[pos], -1).astype(np.int64)

    def _lookup(self, ids: np.ndarray, strict: bool) -> np.ndarray:
        table = self._table
        assert table is not None
        if ids.size == 0:
            return np.zeros(ids.shape, dtype=np.int64)
        if ids.min() >= 0 and ids.max() < table.size:
            out = table[ids]
        else:
            inside = (ids >= 0) & (ids < table.size)
            out = np.full(ids.shape, -1, dtype=np.int64)
            out[inside] = table[ids[inside]]
        if strict and np.any(out < 0):
            missing = ids[out < 0]
            raise KeyError(f"{missing.size} unknown ids, e.g. {missing[:5].tolist()}")
        return out

    def to_ids(self, idx: np.ndarray) -> np.ndarray:
        """Indices -> external ids (raises ``IndexError`` on out-of-range indices)."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.ids.size):
            raise IndexError("index out of range")
        return self.ids[idx]

    def to_array(self) -> np.ndarray:
        """The ids in index order: all that is needed to rebuild the map (``IdIndex(arr)``)."""
        return self.ids.copy()


@dataclass(frozen=True)
class ConfidenceWeights(StoredParams):
    """How each interaction turns into confidence that the user *likes* the item.

    Ratings: below ``rating_threshold`` -> dropped (not a like); at the threshold ->
    ``rating_min_weight``; rising linearly to ``rating_max_weight`` at ``rating_max``.
    Favorites / watchlist / playlist entries have fixed weights; "not interested" weighs
    ``-not_interested`` (twice a favorite by default: an explicit "no" is surer than any one
    like, and at 1.0 similar movies barely moved on the planted data). With
    ``half_life_days`` set, every weight decays by half per half-life of age before ``now``,
    so old tastes fade. Duplicate (user, item) pairs, e.g. a 5-star rating plus a favorite,
    are summed.
    """

    rating_threshold: float = 3.0
    rating_min_weight: float = 0.2
    rating_max_weight: float = 1.0
    rating_max: float = 5.0
    favorite: float = 1.0
    watchlist: float = 0.5
    playlist: float = 0.6
    not_interested: float = 2.0
    half_life_days: float | None = None

    def __post_init__(self) -> None:
        if self.rating_max <= self.rating_threshold:
            raise ValueError("rating_max must be above rating_threshold")
        if min(self.rating_min_weight, self.rating_max_weight) <= 0:
            raise ValueError("rating weights must be positive")
        if min(self.favorite, self.watchlist, self.playlist, self.not_interested) < 0:
            raise ValueError("kind weights must be >= 0")
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise ValueError("half_life_days must be positive")

    def rating_weight(self, scores: np.ndarray) -> np.ndarray:
        """Vectorised rating -> weight; 0 for scores below the threshold."""
        scores = np.asarray(scores, dtype=np.float32)
        slope = (self.rating_max_weight - self.rating_min_weight) / (
            self.rating_max - self.rating_threshold
        )
        clipped = np.minimum(scores, self.rating_max)
        weight = self.rating_min_weight + slope * (clipped - self.rating_threshold)
        return np.where(scores >= self.rating_threshold, weight, 0.0).astype(np.float32)


@dataclass
class Interactions:
    """Raw interaction rows as parallel numpy arrays (what a selector extracts from the DB).

    ``scores`` is the star rating for ``KIND_RATING`` rows and ignored for other kinds;
    ``timestamps`` are Unix seconds.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    scores: np.ndarray
    kinds: np.ndarray
    timestamps: np.ndarray

    def __post_init__(self) -> None:
        self.user_ids = np.asarray(self.user_ids)
        self.item_ids = np.asarray(self.item_ids)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        self.kinds = np.asarray(self.kinds, dtype=np.int8)
        self.timestamps = np.asarray(self.timestamps, dtype=np.int64)
        n = self.user_ids.shape[0]
        for name in ("item_ids", "scores", "kinds", "timestamps"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},)")
        if self.user_ids.ndim != 1:
            raise ValueError("user_ids must be one-dimensional")
        unknown = (self.kinds < 0) | (self.kinds > max(KINDS.values()))
        if np.any(unknown):
            raise ValueError(f"unknown interaction kinds: {np.unique(self.kinds[unknown])}")

    @classmethod
    def ratings(
        cls,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        scores: np.ndarray,
        timestamps: np.ndarray | None = None,
    ) -> Interactions:
        """Rating-only interactions (timestamps default to 0)."""
        n = len(user_ids)
        ts = np.zeros(n, dtype=np.int64) if timestamps is None else timestamps
        return cls(user_ids, item_ids, scores, np.zeros(n, dtype=np.int8), ts)

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def subset(self, mask_or_idx: np.ndarray) -> Interactions:
        """Rows selected by a boolean mask or an index array."""
        return Interactions(
            self.user_ids[mask_or_idx],
            self.item_ids[mask_or_idx],
            self.scores[mask_or_idx],
            self.kinds[mask_or_idx],
            self.timestamps[mask_or_idx],
        )

    @staticmethod
    def concat(parts: list[Interactions]) -> Interactions:
        return Interactions(
            np.concatenate([p.user_ids for p in parts]),
            np.concatenate([p.item_ids for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.kinds for p in parts]),
            np.concatenate([p.timestamps for p in parts]),
        )

    def weights(self, weights: ConfidenceWeights, now: int | None = None) -> np.ndarray:
        """Per-row confidence weight (float32), before duplicate pairs are summed; negative
        for "not interested"."""
        kind_weight = np.array(
            [0.0, weights.favorite, weights.watchlist, weights.playlist, -weights.not_interested],
            dtype=np.float32,
        )
        w = kind_weight[self.kinds]
        is_rating = self.kinds == KIND_RATING
        w[is_rating] = weights.rating_weight(self.scores[is_rating])
        if weights.half_life_days is not None:
            if now is None:
                raise ValueError("now is required when half_life_days is set")
            age_days = np.maximum(now - self.timestamps, 0) / SECONDS_PER_DAY
            w *= np.exp2(-age_days / weights.half_life_days).astype(np.float32)
        return w

    def mapped(
        self, weights: ConfidenceWeights, now: int | None, user_index: IdIndex, item_index: IdIndex
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(user positions, item positions, confidence weights) of every row: what each
        matrix built from these rows starts from, computed once for several of them (at 25M
        rows the mapping and the time decay take about a second)."""
        return (
            user_index.to_index(self.user_ids),
            item_index.to_index(self.item_ids),
            self.weights(weights, now),
        )

    def to_matrix(
        self,
        weights: ConfidenceWeights | None = None,
        *,
        now: int | None = None,
        user_index: IdIndex | None = None,
        item_index: IdIndex | None = None,
        mapped: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> InteractionMatrix:
        """Build the confidence matrix.

        Indexes default to the distinct ids in these rows. Pass the full-data indexes when
        building a train matrix for a split (so test items keep their columns) or the model's
        indexes when building rows for serving; rows whose ids are unknown to a given index
        are dropped and counted in ``InteractionMatrix.dropped``. ``mapped`` is
        :meth:`mapped` of these rows with the same weights, now and indexes, when the caller
        has it already.
        """
        weights = weights or ConfidenceWeights()
        if user_index is None:  # not `or`: an empty IdIndex is falsy
            user_index = IdIndex.from_values(self.user_ids)
        if item_index is None:
            item_index = IdIndex.from_values(self.item_ids)
        u, i, w = mapped or self.mapped(weights, now, user_index, item_index)
        known = (u >= 0) & (i >= 0)
        u, i, w = u[known], i[known], w[known]
        shape = (len(user_index), len(item_index))

        seen = sp.csr_matrix((np.ones(u.size, dtype=np.float32), (u, i)), shape=shape)
        seen.sum_duplicates()
        seen.data[:] = 1.0

        signed = w != 0  # likes, and "not interested" as a negative entry
        confidence = sp.csr_matrix((w[signed], (u[signed], i[signed])), shape=shape)
        confidence.sum_duplicates()
        confidence.eliminate_zeros()  # a like and a "not interested" of one movie cancel out
        confidence.sort_indices()
        seen.sort_indices()
        return InteractionMatrix(
            confidence=confidence,
            seen=seen,
            user_index=user_index,
            item_index=item_index,
            weights=weights,
            dropped=int((~known).sum()),
        )


@dataclass
class InteractionMatrix:
    """Confidence CSR plus everything needed to interpret it.

    ``confidence``: summed like-weights (float32), the ALS input: positive entries are likes,
    negative ones "not interested" (only in serving rows; low ratings are simply absent).
    ``seen``: 1.0 for every (user, item) with any interaction, including disliked ratings; use
    it to exclude items from recommendations.
    """

    confidence: sp.csr_matrix
    seen: sp.csr_matrix
    user_index: IdIndex
    item_index: IdIndex
    weights: ConfidenceWeights
    dropped: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.confidence.shape  # type: ignore[return-value]

    def user_row(self, user_idx: int) -> sp.csr_matrix:
        """The 1 x n_items confidence row of one user."""
        return self.confidence[user_idx]

    def popularity(self) -> np.ndarray:
        """Number of users who liked each item (the popularity baseline's score)."""
        liked = self.confidence.indices[self.confidence.data > 0]
        return np.bincount(liked, minlength=self.shape[1]).astype(np.int64)
