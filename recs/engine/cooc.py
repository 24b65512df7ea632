"""Time-window co-occurrence (TCO): movies rated close together in time by the same people.

Why: ALS and EASE see each user's history as a set. The order carries a different signal:
people rate films in sessions (what they watched lately, a series, what a page showed them),
and two movies that sit a few positions apart in many timelines go together in a way global
co-occurrence dilutes. On ml-latest-small, whose ratings span 22 years, adding it to the
blend gained about 3% NDCG@10 on the validation split; on ml-100k (7 months) about nothing,
so its weight is learned like the others and may be 0.

Model: order each user's movies by time; every pair ``d <= window`` positions apart adds
``d ** -decay`` to ``C[j, i]`` and ``C[i, j]``. Normalised as ``n_j ** -alpha * C[j, i] *
n_i ** -beta`` (``n`` = users per movie; ``beta`` damps popular targets) and pruned to the
``neighbours`` strongest targets per source movie, it is a sparse item-item matrix ``S``. A
user's scores are their signal row times ``S`` (like EASE), so a new rating changes the next
list without retraining and ``x_uj * S[j, i]`` is movie ``j``'s share of ``i``'s score.

Cost: ``window`` pair keys (int64) per interaction, summed with one sort, read from the
newest ``max_rows`` interactions only (5M: about 2 GB at the peak), and at most
``neighbours`` float32 weights (and int32 indices) per movie in the artifact: 62,000
movies x 300 -> 150 MB at most. On ml-latest-small 300 keeps 93% of the pairs and all of the
validation NDCG; 100 lost a tenth of the component's NDCG.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .matrix import KIND_NOT_INTERESTED, IdIndex, Interactions
from .params import StoredParams
from .rows import NpyFile


@dataclass(frozen=True)
class CoocParams(StoredParams):
    """Defaults from the validation split of ml-latest-small (window 2-10, decay 0-1,
    alpha/beta 0-0.8 and 100-3000 neighbours were tried); tuning learns the blend weight."""

    window: int = 5
    decay: float = 0.5
    alpha: float = 0.5
    beta: float = 0.5
    neighbours: int = 300
    max_rows: int = 5_000_000


@dataclass(frozen=True)
class CoocRows:
    """The rows of ``S`` one signal row selects: ``items`` (sorted source movies) and their
    entries, CSR-style (``indptr`` into ``indices``/``data``)."""

    items: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def at(self, items: np.ndarray) -> np.ndarray:
        """Where each item's row sits here (all of them must be here)."""
        at = np.searchsorted(self.items, items)
        if items.size and (
            at.max() >= self.items.size or not np.array_equal(self.items[at], items)
        ):
            raise ValueError("the rows read do not cover this signal row")
        return at

    def sources(self) -> np.ndarray:
        """The row (position in ``items``) of every entry."""
        return np.repeat(np.arange(self.items.size), np.diff(self.indptr))


@dataclass(eq=False)
class CoocModel:
    """``weights``: sparse (n_items x n_items) float32 CSR, row = source movie; ``files``:
    where its ``data`` and ``indices`` live when memory-mapped (``read`` takes rows from
    there, see ``recs.engine.rows``)."""

    weights: sp.csr_matrix
    params: CoocParams
    files: tuple[NpyFile, NpyFile] | None = field(default=None, repr=False)

    @property
    def n_items(self) -> int:
        return int(self.weights.shape[0])

    def read(self, row: sp.csr_matrix) -> CoocRows:
        """The rows of ``S`` the items of ``row`` (one or several user rows) select."""
        row = row if isinstance(row, sp.csr_matrix) else sp.csr_matrix(row)
        items = np.unique(row.indices).astype(np.int64)
        indptr = self.weights.indptr
        starts, stops = indptr[items].astype(np.int64), indptr[items + 1].astype(np.int64)
        offsets = np.r_[0, np.cumsum(stops - starts)]
        if self.files is None:
            take = np.repeat(starts - offsets[:-1], stops - starts) + np.arange(offsets[-1])
            return CoocRows(items, offsets, self.weights.indices[take], self.weights.data[take])
        data_file, indices_file = self.files
        return CoocRows(
            items,
            offsets,
            indices_file.read_ranges(starts, stops),
            data_file.read_ranges(starts, stops),
        )

    def scores(self, rows: sp.csr_matrix, read: CoocRows | None = None) -> np.ndarray:
        """Dense (n_rows, n_items) float32 scores for user rows of signal values (``read``:
        their rows of ``S``, when the caller already read them)."""
        rows = rows if isinstance(rows, sp.csr_matrix) else sp.csr_matrix(rows)
        if read is None and self.files is None:
            return np.asarray((rows.astype(np.float32) @ self.weights).toarray(), np.float32)
        read = read if read is not None else self.read(rows)
        at = read.at(rows.indices)
        if rows.shape[0] == 1:  # one viewer (serving): a weighted count, no sparse product
            per_source = np.zeros(read.items.size, dtype=np.float64)
            np.add.at(per_source, at, rows.data)
            weights = read.data * np.repeat(per_source, np.diff(read.indptr))
            summed = np.bincount(read.indices, weights=weights, minlength=self.n_items)
            return summed.astype(np.float32)[None, :]
        owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        compact = sp.csr_matrix(
            (rows.data.astype(np.float32), (owner, at)), shape=(rows.shape[0], read.items.size)
        )
        block = sp.csr_matrix(
            (read.data, read.indices, read.indptr), shape=(read.items.size, self.n_items)
        )
        return np.asarray((compact @ block).toarray(), dtype=np.float32)

    def contributions(
        self, row: sp.csr_matrix, item_idx: np.ndarray, read: CoocRows | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the row's item indices, ``x_uj * S[j, i]`` for each asked item ``i``)."""
        row = row if isinstance(row, sp.csr_matrix) else sp.csr_matrix(row)
        items = row.indices.astype(np.int64)
        asked, column = np.unique(np.asarray(item_idx, dtype=np.int64), return_inverse=True)
        read = read if read is not None else self.read(row)
        if not asked.size:
            return items, np.zeros((items.size, 0), dtype=np.float32)
        slot = np.searchsorted(asked, read.indices)
        hit = (slot < asked.size) & (asked[np.minimum(slot, asked.size - 1)] == read.indices)
        block = np.zeros((read.items.size, asked.size), dtype=np.float32)
        np.add.at(block, (read.sources()[hit], slot[hit]), read.data[hit])
        block = block[read.at(items)][:, column.reshape(-1)]
        return items, block * row.data.astype(np.float32)[:, None]


def _order(users: np.ndarray, items: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """Rows sorted by (user, time); ties broken by a fixed hash of the pair, so the order
    never depends on how the rows arrived (rows rated in the same second stay shuffled)."""
    tie = (users.astype(np.uint64) * np.uint64(2654435761) + items.astype(np.uint64)) * np.uint64(
        11400714819323198485
    )
    return np.lexsort((tie, timestamps, users))


def fit(
    rows: Interactions,
    user_index: IdIndex,
    item_index: IdIndex,
    params: CoocParams | None = None,
) -> CoocModel:
    """Fit TCO on interaction rows (every kind: what matters is that the user met the movie).

    A (user, movie) met several times counts once, at its first time; "not interested" marks
    (serving-time only, never in training rows) would not be a meeting and are skipped. Only
    the newest ``max_rows`` rows are read: it bounds the cost on big data and keeps the pairs
    of the sessions that reflect today's catalogue.
    """
    params = params or CoocParams()
    n = len(item_index)
    u = user_index.to_index(rows.user_ids)
    i = item_index.to_index(rows.item_ids)
    known = (u >= 0) & (i >= 0) & (rows.kinds != KIND_NOT_INTERESTED)
    u, i, ts = u[known], i[known], rows.timestamps[known]
    if ts.size > params.max_rows:
        newest = np.argsort(ts, kind="stable")[-params.max_rows :]
        u, i, ts = u[newest], i[newest], ts[newest]
    order = _order(u, i, ts)
    u, i = u[order], i[order]
    _, first = np.unique(u * np.int64(n) + i, return_index=True)
    first.sort()
    u, i = u[first], i[first].astype(np.int32)

    counts = np.bincount(i, minlength=n).astype(np.float64)
    # Each unordered pair once (low id, high id) as one int64 key; equal keys are summed.
    keys, values = [], []
    for d in range(1, params.window + 1):
        same = u[d:] == u[:-d]
        a, b = i[:-d][same], i[d:][same]
        keys.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
        values.append(np.full(a.size, float(d) ** -params.decay, dtype=np.float32))
    del u, i
    distinct, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    summed = np.bincount(inverse, weights=np.concatenate(values)).astype(np.float32)
    del keys, values, inverse
    low, high = distinct // n, distinct % n
    scale = np.maximum(counts, 1.0)
    row_scale, col_scale = scale**-params.alpha, scale**-params.beta
    total = sp.csr_matrix(
        (
            np.r_[summed * row_scale[low] * col_scale[high],
                  summed * row_scale[high] * col_scale[low]].astype(np.float32),
            (np.r_[low, high], np.r_[high, low]),
        ),
        shape=(n, n),
    )  # fmt: skip
    return CoocModel(weights=_prune(total, params.neighbours), params=params)


def _prune(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """The ``keep`` largest entries of each row (all of a row that has fewer).

    One partial sort per long row: a global sort of every entry costs several times more."""
    matrix.sum_duplicates()
    lengths = np.diff(matrix.indptr)
    chosen = np.ones(matrix.data.size, dtype=bool)
    for r in np.flatnonzero(lengths > keep).tolist():
        lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
        part = np.argpartition(-matrix.data[lo:hi], keep - 1)[keep:]
        chosen[lo + part] = False
    row = np.repeat(np.arange(matrix.shape[0]), lengths)[chosen]
    out = sp.csr_matrix(
        (matrix.data[chosen], (row, matrix.indices[chosen])), shape=matrix.shape, dtype=np.float32
    )
    out.sort_indices()
    return out
