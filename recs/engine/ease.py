"""EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019): a closed-form item-item model.

``B = argmin ||X - X B||^2 + l2 ||B||^2`` with ``diag(B) = 0`` has the solution
``P = (X^T X + l2 I)^-1``, ``B = -P / diag(P)`` (column-wise), ``diag(B) = 0``. A user's scores
are their row times ``B``, so a new rating changes the next list without retraining, and the
contribution of each of the user's movies to a score (``x_uj * B[j, i]``) is the explanation.

Memory: ``B`` is dense ``m x m`` float32 over the ``m`` movies kept (those with at least
``min_item_users`` users, at most ``max_items`` of the most-rated (``RECS_EASE_MAX_ITEMS``,
10,000 by default). The fit peaks while the gram is built: the dense float32 ``X^T X``
(4 * m^2 bytes: 0.4 GB at 10,000 movies, 1.6 GB at 20,000) plus two CSR copies of ``X`` and
one sparse block product at a time (``gram_dense``); the inverse is then taken in place.
Movies outside the kept set score 0 in EASE and are still ranked by ALS.

An artifact stores ``B`` as bfloat16 (half the disk and page cache; ``recs.engine.rows``).
Serving from it reads only the rows of ``B`` a viewer's movies select, a few at a time, from
the file with ``pread`` (``recs.engine.rows`` says why not through the map) and widens them to
float32; the whole matrix is never converted. An explanation needs ``B[j, i]`` for the
viewer's movies ``j`` and a few recommended ``i``: ``P`` is symmetric, so ``B[j, i] = B[i, j]
* P[j, j] / P[i, i]`` and it reads the few rows ``i`` instead of every row ``j`` again
(``diag`` keeps ``P``'s diagonal; models saved without it read the rows ``j``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .params import StoredParams
from .rows import NpyFile, bfloat16_decode


@dataclass(frozen=True)
class EaseParams(StoredParams):
    """``l2`` is the ridge penalty (larger = smoother, more popular); the other two bound
    the dense item-item matrix (see the module docstring for the memory it takes)."""

    l2: float = 200.0
    min_item_users: int = 3
    max_items: int = 10_000


#: Rows of ``B`` read and multiplied at a time: the buffer stays small (1.3 MB at 10,000
#: movies), so transient reads never grow a worker's heap.
READ_CHUNK = 32


@dataclass(eq=False)
class EaseModel:
    """``weights`` is ``B`` restricted to the kept columns ``items`` (indices into the full
    item space of size ``n_items``): float32, or bfloat16 bits (uint16) as loaded from an
    artifact; ``diag`` is ``P``'s diagonal over them (None in models saved before it was
    kept); ``file`` is where a memory-mapped ``weights`` lives, so rows are read from there."""

    weights: np.ndarray
    items: np.ndarray
    n_items: int
    params: EaseParams
    diag: np.ndarray | None = None
    file: NpyFile | None = field(default=None, repr=False)

    @cached_property
    def positions(self) -> np.ndarray:
        """Item index -> row and column of ``weights`` (-1 outside the kept movies)."""
        return _positions(self.items, self.n_items)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """Rows of ``B`` (positions in ``items``) as float32; only these are read."""
        if self.file is not None:
            return _float32(self.file.read_rows(positions))
        return _float32(self.weights[np.asarray(positions, dtype=np.int64)])

    @property
    def _in_place(self) -> bool:
        """Products read ``B`` where it is (float32 in memory: training and evaluation)."""
        return self.file is None and self.weights.dtype == np.float32

    def scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """Dense (n_rows, n_items) float32 scores for user rows of signal values."""
        rows = _csr(rows)
        out = np.zeros((rows.shape[0], self.n_items), dtype=np.float32)
        if not self.items.size:
            return out
        pos = self.positions[rows.indices]
        ok = pos >= 0
        if self._in_place:
            # Re-index the rows into the kept movies' columns directly (SciPy's column
            # fancy-indexing of a CSR batch costs more than the product here).
            indptr = np.r_[0, np.cumsum(ok)][rows.indptr]
            kept = sp.csr_matrix(
                (rows.data[ok].astype(np.float32), pos[ok], indptr),
                shape=(rows.shape[0], self.items.size),
            )
            out[:, self.items] = np.asarray(kept @ self.weights, np.float32)
            return out
        touched, at = np.unique(pos[ok], return_inverse=True)
        at = at.reshape(-1)
        if rows.shape[0] == 1:  # one viewer (serving): a BLAS gemv per chunk of rows
            coefficients = np.bincount(at, weights=rows.data[ok], minlength=touched.size)
            coefficients = coefficients.astype(np.float32)
            acc = np.zeros(self.items.size, dtype=np.float32)
            for lo in range(0, touched.size, READ_CHUNK):
                acc += coefficients[lo : lo + READ_CHUNK] @ self.rows(touched[lo : lo + READ_CHUNK])
            out[0, self.items] = acc
            return out
        owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))[ok]
        batch = sp.csc_matrix(
            (rows.data[ok].astype(np.float32), (owner, at)), shape=(rows.shape[0], touched.size)
        )
        acc = np.zeros((rows.shape[0], self.items.size), dtype=np.float32)
        for lo in range(0, touched.size, READ_CHUNK):
            block = self.rows(touched[lo : lo + READ_CHUNK])
            acc += np.asarray(batch[:, lo : lo + READ_CHUNK] @ block, np.float32)
        out[:, self.items] = acc
        return out

    def contributions(
        self, row: sp.csr_matrix, item_idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the row's item indices, their contribution to each asked item's score) with shape
        (row items, asked items): ``x_uj * B[j, i]``, zero outside the kept movies."""
        row = _csr(row)
        items = row.indices.astype(np.int64)
        values = row.data.astype(np.float32)
        out = np.zeros((items.size, np.asarray(item_idx).size), dtype=np.float32)
        src = self.positions[items]
        dst = self.positions[np.asarray(item_idx, dtype=np.int64)]
        ok_src, ok_dst = src >= 0, dst >= 0
        if ok_src.any() and ok_dst.any():
            out[np.ix_(np.flatnonzero(ok_src), np.flatnonzero(ok_dst))] = (
                self._block(src[ok_src], dst[ok_dst]) * values[ok_src, None]
            )
        return items, out

    def _block(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """``B[src][:, dst]`` (positions) as float32, reading as few rows as it can."""
        if self._in_place:
            return np.asarray(self.weights[np.ix_(src, dst)], np.float32)
        if self.diag is not None:
            d = self.diag.astype(np.float32)
            return (self.rows(dst)[:, src] * d[src][None, :] / d[dst][:, None]).T
        block = np.empty((src.size, dst.size), dtype=np.float32)
        for lo in range(0, src.size, READ_CHUNK):
            block[lo : lo + READ_CHUNK] = self.rows(src[lo : lo + READ_CHUNK])[:, dst]
        return block


def _float32(weights: np.ndarray) -> np.ndarray:
    """Rows of ``B`` as float32, widening bfloat16 bits."""
    if weights.dtype == np.uint16:
        return bfloat16_decode(weights)
    return np.asarray(weights, dtype=np.float32)


def _csr(matrix: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``matrix`` as CSR, without a copy (or a scipy construction) when it already is one."""
    return matrix if isinstance(matrix, sp.csr_matrix) else sp.csr_matrix(matrix)


def _positions(items: np.ndarray, n_items: int) -> np.ndarray:
    pos = np.full(n_items, -1, dtype=np.int64)
    pos[items] = np.arange(items.size)
    return pos


def gram(values: sp.csr_matrix, params: EaseParams) -> tuple[np.ndarray, np.ndarray]:
    """(kept item indices, dense float32 ``X^T X`` over them): the part shared by every l2."""
    x = sp.csc_matrix(values, dtype=np.float32)
    users_per_item = np.diff(x.indptr)
    eligible = np.flatnonzero(users_per_item >= params.min_item_users)
    if eligible.size > params.max_items:
        top = np.argsort(-users_per_item[eligible], kind="stable")[: params.max_items]
        eligible = np.sort(eligible[top])
    sub = x[:, eligible]
    return eligible.astype(np.int64), gram_dense(sub)


def gram_dense(x: sp.csc_matrix, *, blocks: int = 12, workers: int | None = None) -> np.ndarray:
    """Dense float32 ``x^T x``, one upper block ``x_a^T x_b`` (``a <= b``) at a time.

    The one-shot sparse product is single-threaded SciPy and was most of the EASE fit at 25M
    ratings (28 s of 34). Blocks of columns, balanced by their stored entries, skip the lower
    triangle (a mirror of the upper one: 78 block products of 144 with 12 blocks), keep each
    product's accumulator small enough for the CPU cache and run on every core (SciPy
    releases the GIL in them): 8-9 s at 25M on 2 cores. Each block is densified as it is
    done, so the sparse intermediate is one block, not the nearly dense whole. Every entry
    sums the same products in the same (user) order as the one-shot product: the result is
    bit for bit the same.
    """
    n = x.shape[1]
    g = np.zeros((n, n), dtype=np.float32)
    if n == 0 or x.nnz == 0:
        return g
    blocks = max(1, min(blocks, n // 256))  # a small matrix is one block
    x = sp.csc_matrix(x, dtype=np.float32)
    cumulative = np.asarray(x.indptr[1:], dtype=np.float64)
    cuts = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], blocks + 1)[1:-1])
    edges = np.unique(np.r_[0, cuts, n])
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    left = [x[:, a:b].T.tocsr() for a, b in spans]  # x_a^T, CSR
    right = [x[:, a:b].tocsr() for a, b in spans]  # x_b, CSR

    def block(pair: tuple[int, int]) -> None:
        i, j = pair
        (a0, a1), (b0, b1) = spans[i], spans[j]
        product = (left[i] @ right[j]).toarray()
        g[a0:a1, b0:b1] = product
        if i != j:
            g[b0:b1, a0:a1] = product.T

    pairs = [(i, j) for i in range(len(spans)) for j in range(i, len(spans))]
    workers = workers or min(len(pairs), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(block, pairs))
    else:
        for pair in pairs:
            block(pair)
    return g


def spd_inverse(a: np.ndarray, block: int = 1024) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix, computed in ``a``'s own memory.

    Cholesky (LAPACK ``potrf`` + ``potri``) takes about half the flops of the LU inverse and
    no second n x n buffer: at 25M ratings the EASE solve is the biggest single cost of a
    training. ``potri`` fills one triangle; the other is mirrored block by block.
    """
    potrf, potri = scipy.linalg.get_lapack_funcs(("potrf", "potri"), (a,))
    # The transpose of a C-ordered symmetric matrix is the same matrix in Fortran order,
    # which LAPACK overwrites in place.
    factor, info = potrf(a.T, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE gram is not positive definite (potrf info {info})")
    inverse, info = potri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE gram is singular (potri info {info})")
    out = inverse.T  # C order; its upper triangle holds the result
    n = out.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        out[stop:, start:stop] = out[start:stop, stop:].T
        diagonal = out[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        diagonal[lower] = diagonal.T[lower]
    return out


def fit_from_gram(
    items: np.ndarray, g: np.ndarray, n_items: int, params: EaseParams, *, copy: bool = True
) -> EaseModel:
    """Solve EASE for one ``l2`` from a precomputed gram (``copy=False`` consumes ``g``)."""
    a = g.copy() if copy else g
    a[np.diag_indices_from(a)] += np.float32(params.l2)
    # Threads only pay off on big matrices; on small ones (and busy machines) they spin.
    with threadpool_limits(1 if a.shape[0] < 3000 else None, "blas"):
        p = spd_inverse(a)
    diag = np.diag(p).copy()
    p /= -diag[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return EaseModel(weights=p, items=items, n_items=n_items, params=params, diag=diag)


def fit(values: sp.csr_matrix, params: EaseParams | None = None) -> EaseModel:
    """Fit EASE on a user x item matrix of signal values (see ``hybrid.signal_matrix``)."""
    params = params or EaseParams()
    items, g = gram(values, params)
    return fit_from_gram(items, g, values.shape[1], params, copy=False)
