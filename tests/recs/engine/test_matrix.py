import numpy as np
import pytest

from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_NOT_INTERESTED,
    KIND_PLAYLIST,
    KIND_RATING,
    KIND_WATCHLIST,
    ConfidenceWeights,
    IdIndex,
    Interactions,
)

DAY = 86_400


def _rows(users, items, scores, kinds, ts=None):
    n = len(users)
    return Interactions(
        np.asarray(users),
        np.asarray(items),
        np.asarray(scores, np.float32),
        np.asarray(kinds, np.int8),
        np.zeros(n, np.int64) if ts is None else np.asarray(ts),
    )


def test_id_index_maps_both_ways_and_marks_unknown():
    index = IdIndex(np.array([42, 7, 19]))
    assert index.to_index(np.array([7, 42, 19, 5])).tolist() == [1, 0, 2, -1]
    assert index.to_ids(np.array([2, 0])).tolist() == [19, 42]
    assert 7 in index and 8 not in index
    assert IdIndex(index.to_array()) == index


def test_id_index_strict_and_validation():
    index = IdIndex.from_values(np.array([3, 1, 3, 2]))
    assert index.to_array().tolist() == [1, 2, 3]
    with pytest.raises(KeyError):
        index.to_index(np.array([1, 9]), strict=True)
    with pytest.raises(ValueError):
        IdIndex(np.array([1, 1]))
    with pytest.raises(IndexError):
        index.to_ids(np.array([3]))


def test_id_index_lookup_table_agrees_with_the_sorted_path():
    rng = np.random.default_rng(0)
    ids = rng.choice(5_000, size=1_000, replace=False)  # database keys: the table path
    sparse = ids * 10**9  # far apart: the searchsorted path
    dense, wide = IdIndex(ids), IdIndex(sparse)
    assert dense._table is not None and wide._table is None
    queries = np.r_[rng.integers(-10, 6_000, 3_000), ids[:50]]
    position = {int(v): n for n, v in enumerate(ids)}
    expected = [position.get(int(q), -1) for q in queries]
    assert dense.to_index(queries).tolist() == expected
    assert wide.to_index(queries * 10**9).tolist() == expected
    np.testing.assert_array_equal(dense.to_index(ids), np.arange(ids.size))
    assert dense.to_index(np.array([], dtype=np.int64)).size == 0
    with pytest.raises(KeyError):
        dense.to_index(np.array([ids[0], 10**12]), strict=True)
    with pytest.raises(KeyError):
        dense.to_index(np.array([-1]), strict=True)


def test_id_index_accepts_string_ids():
    index = IdIndex(np.array(["tt02", "tt01"]))
    assert index.to_index(np.array(["tt01", "nope"])).tolist() == [1, -1]


def test_rating_weights_low_scores_are_not_likes():
    w = ConfidenceWeights()
    got = w.rating_weight(np.array([0.5, 2.5, 2.99, 3.0, 4.0, 5.0]))
    np.testing.assert_allclose(got, [0, 0, 0, 0.2, 0.6, 1.0], atol=1e-6)


def test_matrix_weights_per_kind_and_disliked_only_in_seen():
    rows = _rows(
        users=[1, 1, 1, 1, 2],
        items=[10, 11, 12, 13, 10],
        scores=[5.0, 0, 0, 0, 2.0],
        kinds=[KIND_RATING, KIND_FAVORITE, KIND_WATCHLIST, KIND_PLAYLIST, KIND_RATING],
    )
    m = rows.to_matrix(ConfidenceWeights(favorite=1.5, watchlist=0.5, playlist=0.7))
    dense = m.confidence.toarray()
    np.testing.assert_allclose(dense[0], [1.0, 1.5, 0.5, 0.7], atol=1e-6)
    assert dense[1].sum() == 0  # a 2-star rating is not a like
    assert m.seen.toarray()[1].tolist() == [1, 0, 0, 0]  # but it is excluded from recs
    assert m.confidence.dtype == np.float32
    assert m.popularity().tolist() == [1, 1, 1, 1]


def test_duplicate_pairs_are_summed():
    rows = _rows([1, 1, 1], [10, 10, 10], [5.0, 0, 4.0], [KIND_RATING, KIND_FAVORITE, 0])
    m = rows.to_matrix()
    assert m.confidence.nnz == 1
    assert m.confidence[0, 0] == pytest.approx(1.0 + 1.0 + 0.6)
    assert m.seen[0, 0] == 1.0


def test_time_decay_halves_per_half_life():
    now = 1_000 * DAY
    rows = _rows(
        [1, 1, 1, 1],
        [10, 11, 12, 13],
        [5.0, 5.0, 5.0, 5.0],
        [0, 0, 0, 0],
        ts=[now, now - 10 * DAY, now - 20 * DAY, now + 5 * DAY],
    )
    m = rows.to_matrix(ConfidenceWeights(half_life_days=10), now=now)
    np.testing.assert_allclose(m.confidence.toarray()[0], [1.0, 0.5, 0.25, 1.0], rtol=1e-5)
    with pytest.raises(ValueError):
        rows.to_matrix(ConfidenceWeights(half_life_days=10))


def test_given_indexes_drop_unknown_rows():
    rows = _rows([1, 2, 3], [10, 11, 12], [5, 5, 5], [0, 0, 0])
    m = rows.to_matrix(user_index=IdIndex(np.array([1, 2])), item_index=IdIndex(np.array([12, 10])))
    assert m.shape == (2, 2)
    assert m.dropped == 2
    assert m.confidence.toarray().tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_unknown_kind_and_shape_mismatch_raise():
    with pytest.raises(ValueError):
        _rows([1], [1], [5.0], [9])
    with pytest.raises(ValueError):
        Interactions(np.array([1, 2]), np.array([1]), np.array([5.0]), np.array([0]), np.array([0]))


def test_matrices_built_from_one_mapping_equal_those_built_alone():
    from recs.engine.hybrid import signal_matrix

    rng = np.random.default_rng(5)
    n = 5_000
    rows = Interactions(
        rng.integers(1, 300, n), rng.integers(1, 900, n), rng.choice([1.0, 2.5, 4.0, 5.0], n),
        rng.choice([KIND_RATING, KIND_FAVORITE, KIND_WATCHLIST, KIND_NOT_INTERESTED], n),
        rng.integers(1_600_000_000, 1_700_000_000, n),
    )  # fmt: skip
    weights = ConfidenceWeights(half_life_days=90)
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    now = 1_700_000_000
    mapped = rows.mapped(weights, now, users, items)
    kept = [array.copy() for array in mapped]
    alone = rows.to_matrix(weights, now=now, user_index=users, item_index=items)
    shared = rows.to_matrix(weights, now=now, user_index=users, item_index=items, mapped=mapped)
    for name in ("confidence", "seen"):
        a, b = getattr(alone, name), getattr(shared, name)
        assert (a != b).nnz == 0 and np.array_equal(a.indptr, b.indptr)
    signal = signal_matrix(rows, weights, -0.1, now=now, user_index=users, item_index=items)
    signal_shared = signal_matrix(
        rows, weights, -0.1, now=now, user_index=users, item_index=items, mapped=mapped
    )
    assert (signal != signal_shared).nnz == 0
    assert all(np.array_equal(a, b) for a, b in zip(mapped, kept, strict=True))  # untouched
