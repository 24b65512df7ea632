"""Time-window co-occurrence: exact pair counts, pruning, real-time scores, and its place in
the tuned blend and the novelty control, on small generated data."""

import numpy as np
import scipy.sparse as sp

from recs.engine import cooc as cooc_engine
from recs.engine.cooc import CoocParams
from recs.engine.matrix import IdIndex, Interactions
from recs.engine.synthetic import generate


def _rows(history: dict[int, list[int]]) -> Interactions:
    """One rating per movie, each user's movies in the listed order (one per minute)."""
    users, items, times = [], [], []
    for user, movies in history.items():
        for t, movie in enumerate(movies):
            users.append(user)
            items.append(movie)
            times.append(1_000_000 + 60 * t)
    n = len(users)
    return Interactions.ratings(np.array(users), np.array(items), np.full(n, 4.0), np.array(times))


def _fit(rows: Interactions, params: CoocParams) -> tuple[cooc_engine.CoocModel, IdIndex]:
    items = IdIndex.from_values(rows.item_ids)
    return cooc_engine.fit(rows, IdIndex.from_values(rows.user_ids), items, params), items


def test_pairs_within_the_window_weighted_by_distance_and_normalised_by_counts():
    # Movies 10..13; user 1 rates 10, 11, 12 in that order, user 2 rates 12, 13 (out of
    # order in the input, then a second rating of 12 later, which counts once).
    rows = Interactions.concat([_rows({2: [12, 13]}), _rows({1: [10, 11, 12]}), _rows({2: [12]})])
    rows.timestamps[-1] += 3600
    raw, _ = _fit(rows, CoocParams(window=2, decay=1.0, alpha=0.0, beta=0.0))
    expected = np.zeros((4, 4))
    for a, b, w in [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 0.5), (2, 3, 1.0)]:
        expected[a, b] = expected[b, a] = w
    np.testing.assert_allclose(raw.weights.toarray(), expected)
    # Normalised: n_j^-alpha * C[j, i] * n_i^-beta, with n = users per movie (12 has two).
    normed, _ = _fit(rows, CoocParams(window=2, decay=1.0, alpha=0.5, beta=1.0))
    n = np.array([1.0, 1.0, 2.0, 1.0])
    np.testing.assert_allclose(
        normed.weights.toarray(), expected * n[:, None] ** -0.5 / n[None, :], rtol=1e-6
    )
    # Outside the window nothing co-occurs.
    narrow, _ = _fit(rows, CoocParams(window=1, decay=1.0, alpha=0.0, beta=0.0))
    assert narrow.weights[0, 2] == 0 and narrow.weights[0, 1] == 1


def test_pruning_keeps_the_strongest_neighbours_of_each_movie():
    rng = np.random.default_rng(3)
    history = {u: list(rng.permutation(30)[:12]) for u in range(200)}
    full, _ = _fit(_rows(history), CoocParams(neighbours=1000))
    pruned, _ = _fit(_rows(history), CoocParams(neighbours=5))
    lengths = np.diff(pruned.weights.indptr)
    assert lengths.max() == 5
    for j in range(30):
        row = full.weights[j].toarray().ravel()
        kept = pruned.weights[j].toarray().ravel()
        assert set(np.flatnonzero(kept)) <= set(np.flatnonzero(row))
        np.testing.assert_allclose(np.sort(kept[kept > 0]), np.sort(row)[-5:], rtol=1e-6)


def test_scores_are_the_user_row_times_the_matrix_so_a_new_rating_counts_at_once():
    # Two sessions everyone follows: movies 0-1-2 then 3-4-5 (indices equal ids here).
    history = {u: [0, 1, 2, 3, 4, 5] if u % 2 else [3, 4, 5] for u in range(50)}
    model, items = _fit(_rows(history), CoocParams(window=2))
    assert items.to_index(np.arange(6)).tolist() == list(range(6))
    row = sp.csr_matrix((np.array([1.0], np.float32), ([0], [0])), shape=(1, len(items)))
    scores = model.scores(row)[0]
    assert scores[1] > scores[4] and scores[2] > scores[5]
    both = row + sp.csr_matrix((np.array([1.0], np.float32), ([0], [3])), shape=row.shape)
    after = model.scores(both)[0]
    assert after[4] > scores[4]  # the new movie's neighbours rise without refitting
    sources, contrib = model.contributions(both, np.array([1, 4]))
    np.testing.assert_allclose(contrib.sum(axis=0), after[[1, 4]], rtol=1e-6)
    assert sources.tolist() == [0, 3]


def test_fit_does_not_depend_on_the_order_rows_arrive_in():
    data = generate(200, 300, 6_000, seed=4).interactions
    a, _ = _fit(data, CoocParams())
    shuffled = data.subset(np.random.default_rng(0).permutation(len(data)))
    b, _ = _fit(shuffled, CoocParams())
    assert (a.weights != b.weights).nnz == 0
