""" "Not interested" as a negative signal in one user's serving rows (ALS and EASE)."""

import numpy as np
import scipy.sparse as sp

from recs.engine.hybrid import signal_matrix
from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_NOT_INTERESTED,
    KIND_RATING,
    ConfidenceWeights,
    IdIndex,
    Interactions,
)


def _rows(items, kinds, scores=None, user=1) -> Interactions:
    n = len(items)
    return Interactions(
        np.full(n, user),
        np.asarray(items),
        np.zeros(n, np.float32) if scores is None else np.asarray(scores, np.float32),
        np.asarray(kinds, np.int8),
        np.zeros(n, np.int64),
    )


def _dismiss(rows: Interactions, item_id: int) -> Interactions:
    user = rows.user_ids[:1]
    return Interactions.concat(
        [rows, _rows([item_id], [KIND_NOT_INTERESTED], user=int(user[0]) if user.size else 0)]
    )


def _ranks(scores: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Each item's position in the list (0 = first); excluded items go last."""
    s = scores.astype(np.float64).copy()
    s[excluded] = -np.inf
    order = np.argsort(-s, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(order.size)
    return ranks


def test_not_interested_is_a_negative_entry_that_a_like_of_the_same_movie_cancels():
    weights = ConfidenceWeights(favorite=1.0, not_interested=2.0)
    rows = _rows([10, 11, 12, 12], [KIND_RATING, KIND_NOT_INTERESTED, KIND_FAVORITE, KIND_FAVORITE])
    rows.scores[0] = 5.0
    rows = Interactions.concat([rows, _rows([12], [KIND_NOT_INTERESTED])])
    m = rows.to_matrix(weights)
    np.testing.assert_allclose(m.confidence.toarray(), [[1.0, -2.0, 0.0]])
    assert m.confidence.nnz == 2  # 1 + 1 - 2 on movie 12 is no entry at all
    assert m.seen.toarray().tolist() == [[1.0, 1.0, 1.0]]
    assert m.popularity().tolist() == [1, 0, 0]  # a dislike is nobody's like

    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    signal = signal_matrix(rows, weights, -0.1, now=None, user_index=users, item_index=items)
    np.testing.assert_allclose(signal.toarray(), [[1.0, -2.0, 0.0]])
    assert signal.nnz == 2


def test_a_dislike_is_implicits_negative_confidence_preference_zero(trained):
    from implicit.cpu.als import AlternatingLeastSquares

    model = trained.model
    liked = trained.train.confidence[8]
    disliked = np.setdiff1d(np.arange(5), liked.indices)[:2]
    row = sp.csr_matrix(
        (
            np.r_[liked.data, np.full(disliked.size, -2.0, np.float32)],
            (np.zeros(liked.nnz + disliked.size, np.int64), np.r_[liked.indices, disliked]),
        ),
        shape=liked.shape,
    )
    # Hu, Koren & Volinsky with p = 0 and c = 1 + alpha * 2 on the disliked movies.
    y = model.item_factors.astype(np.float64)
    c = np.ones(model.n_items)
    c[liked.indices] = 1.0 + model.params.alpha * liked.data
    c[disliked] = 1.0 + model.params.alpha * 2.0
    p = np.zeros(model.n_items)
    p[liked.indices] = 1.0
    reg = model.params.regularization * np.eye(model.params.factors)
    dense = np.linalg.solve(y.T @ (c[:, None] * y) + reg, y.T @ (c * p))
    ours = model.recalculate_user(row)
    np.testing.assert_allclose(ours, dense, rtol=1e-3, atol=1e-5)
    scaled = model.confidence(row)
    assert (scaled.data < 0).sum() == disliked.size  # the sign reaches implicit

    als = AlternatingLeastSquares(
        factors=model.params.factors, regularization=model.params.regularization, alpha=1.0
    )
    als.user_factors, als.item_factors = model.user_factors, model.item_factors
    np.testing.assert_allclose(ours, als.recalculate_user(0, scaled), rtol=1e-3, atol=1e-4)
    # One dislike shrinks that movie's score towards "unseen" (0): by Sherman-Morrison,
    # y_j^T x becomes y_j^T x / (1 + (c_j - 1) y_j^T A^-1 y_j).
    plain = model.recalculate_user(liked)
    c_liked = np.ones(model.n_items)
    c_liked[liked.indices] = 1.0 + model.params.alpha * liked.data
    a_inv = np.linalg.inv(y.T @ (c_liked[:, None] * y) + reg)
    candidates = [j for j in np.argsort(-(y @ plain)).tolist() if j not in liked.indices][:5]
    for j in candidates:
        one = liked.tolil(copy=True)
        one[0, j] = -2.0
        score = float(y[j] @ model.recalculate_user(one.tocsr()))
        shrink = 1.0 + model.params.alpha * 2.0 * float(y[j] @ a_inv @ y[j])
        np.testing.assert_allclose(score, float(y[j] @ plain) / shrink, rtol=1e-3)
        assert 0 < score < float(y[j] @ plain)


def test_movies_like_the_dismissed_one_sink_in_that_users_list(hybrid):
    """For several two-taste users: dismiss the top pick X; X's nearest neighbours (item-factor
    cosine, what ``Movie.similar`` shows) lose score against the rest of the catalogue for
    every user, and fall in the list, far more than the other picks do."""
    data, model = hybrid.data, hybrid.model
    two_taste = np.flatnonzero(data.user_clusters[:, 1] >= 0)[:8]
    neighbours_moved, others_moved = [], []
    for user in two_taste.tolist():
        rows = data.interactions.subset(data.interactions.user_ids == user)
        before = model.user_scores(rows, now=data.now)
        top, _ = model.recommend(before, 20, exclude_idx=before.seen_idx)
        x = int(top[0])
        x_id = int(model.item_index.to_ids(np.array([x]))[0])
        after = model.user_scores(_dismiss(rows, x_id), now=data.now)

        assert x in after.seen_idx.tolist()  # never recommended back
        assert not after.is_empty
        seen = set(after.seen_idx.tolist())
        similar, _ = model.similar_items(x, 40)
        neighbours = np.array([i for i in similar.tolist() if i not in seen][:10])
        others = np.array([i for i in top.tolist() if i not in seen | set(neighbours.tolist())])
        change = after.scores - before.scores
        rest = np.setdiff1d(np.arange(model.n_items), np.r_[after.seen_idx, neighbours])
        assert change[neighbours].mean() < np.median(change[rest])
        # Ranks without X in either list, so X's own exit moves nobody.
        rank_before = _ranks(before.scores, after.seen_idx)
        rank_after = _ranks(after.scores, after.seen_idx)
        neighbours_moved.append(np.mean(rank_after[neighbours] - rank_before[neighbours]))
        others_moved.append(np.mean(rank_after[others] - rank_before[others]))
        # A dismissed movie never explains another pick.
        picks, _ = model.recommend(after, 10, exclude_idx=after.seen_idx)
        assert all(x not in reasons for reasons in model.explain(after, picks))
    neighbours_moved, others_moved = np.array(neighbours_moved), np.array(others_moved)
    # The dislike reads the whole profile, so one user's ALS neighbours may stay put.
    assert (neighbours_moved > 0).sum() >= 7, neighbours_moved
    assert neighbours_moved.mean() > others_moved.mean() + 5, (neighbours_moved, others_moved)


def test_dislikes_alone_make_no_personal_list(hybrid):
    model = hybrid.model
    state = model.user_scores(
        _rows(model.item_index.to_ids(np.arange(3)), [KIND_NOT_INTERESTED] * 3), now=None
    )
    assert state.is_empty
    assert model.explain(state, np.array([5, 6])) == [[], []]
