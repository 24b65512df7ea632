"""EASE's gram in upper-triangle blocks on every core: the same matrix as one sparse product."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine.ease import EaseParams, gram, gram_dense


def _skewed(n_users: int, n_items: int, nnz: int, seed: int = 0) -> sp.csc_matrix:
    """Zipf-like item popularity, so column blocks balanced by entries differ in width."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_items + 1) ** 0.9
    u = rng.integers(0, n_users, nnz)
    i = rng.choice(n_items, nnz, p=p / p.sum())
    values = rng.choice(np.array([-0.1, 0.2, 0.6, 1.0], dtype=np.float32), nnz)
    x = sp.csr_matrix((values, (u, i)), shape=(n_users, n_items))
    x.sum_duplicates()
    return x.tocsc()


@pytest.mark.parametrize(("blocks", "workers"), [(1, 1), (3, 1), (12, 2), (40, 2)])
def test_blocks_give_the_one_shot_product_bit_for_bit(blocks: int, workers: int) -> None:
    x = _skewed(2_000, 1_300, 60_000)
    expected = np.asarray((x.T @ x).toarray(), dtype=np.float32)
    got = gram_dense(x, blocks=blocks, workers=workers)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    assert np.array_equal(got, expected)
    assert np.array_equal(got, got.T)


def test_empty_columns_and_an_empty_matrix() -> None:
    x = _skewed(300, 600, 2_000)
    x = sp.hstack([x, sp.csc_matrix((300, 40), dtype=np.float32)]).tocsc()
    got = gram_dense(x, blocks=4, workers=2)
    assert np.array_equal(got, np.asarray((x.T @ x).toarray(), dtype=np.float32))
    assert not got[:, -40:].any()
    assert gram_dense(sp.csc_matrix((5, 0), dtype=np.float32)).shape == (0, 0)
    assert not gram_dense(sp.csc_matrix((5, 300), dtype=np.float32)).any()


def test_gram_keeps_the_capped_items_and_their_products() -> None:
    x = _skewed(1_500, 900, 40_000, seed=3).tocsr()
    items, g = gram(x, EaseParams(min_item_users=3, max_items=500))
    sub = sp.csc_matrix(x)[:, items]
    assert items.size == 500 and np.all(np.diff(items) > 0)
    assert np.array_equal(g, np.asarray((sub.T @ sub).toarray(), dtype=np.float32))
