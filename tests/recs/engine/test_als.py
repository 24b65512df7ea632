import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine.als import AlsModel
from recs.engine.matrix import Interactions


def _new_user_row(model: AlsModel, item_ids, scores):
    rows = Interactions.ratings(
        np.full(len(item_ids), 999_999), np.asarray(item_ids), np.asarray(scores, np.float32)
    )
    m = model.user_matrix(rows)
    assert m.shape == (1, model.n_items)
    return m.confidence, m.seen


def _popular_cluster_items(trained, cluster, n, skip=15):
    """Popular items of one taste cluster, skipping the blockbusters everyone likes."""
    members = np.flatnonzero(trained.data.item_clusters == cluster)
    return members[np.argsort(-trained.data.item_popularity[members])][skip : skip + n]


def test_recalculated_new_user_gets_recommendations_from_their_cluster(trained):
    model = trained.model
    liked = _popular_cluster_items(trained, cluster=3, n=15)
    row, seen = _new_user_row(model, model.item_index.to_ids(liked), [5.0] * 15)
    vector = model.recalculate_user(row)
    ids, scores = model.recommend_for_vector(vector, n=10, exclude_idx=seen.indices)
    assert len(ids) == 10 and np.all(np.diff(scores) <= 0)
    assert not set(ids.tolist()) & set(liked.tolist())
    clusters = trained.data.item_clusters[model.item_index.to_ids(ids)]
    assert (clusters == 3).sum() >= 9, clusters


def test_low_ratings_do_not_attract_recommendations(trained):
    model = trained.model
    hated = _popular_cluster_items(trained, cluster=5, n=15)
    row, _ = _new_user_row(model, model.item_index.to_ids(hated), [1.0] * 15)
    assert row.nnz == 0
    np.testing.assert_array_equal(model.recalculate_user(row), 0.0)


def test_recalculate_user_matches_trained_factors(trained):
    model = trained.model
    users = np.arange(20)
    for u in users:
        fresh = model.recalculate_user(trained.train.confidence[u])
        trained_vec = model.user_factors[u]
        cos = fresh @ trained_vec / (np.linalg.norm(fresh) * np.linalg.norm(trained_vec))
        assert cos > 0.95, (u, cos)


def test_recommend_filters(trained):
    model = trained.model
    seen = trained.train.seen[0]
    ids, _ = model.recommend(0, seen, n=20)
    assert not set(ids.tolist()) & set(seen.indices.tolist())
    allowed = np.arange(100, 130)
    ids2, _ = model.recommend(0, seen, n=50, exclude_idx=[100, 101], allowed_items_idx=allowed)
    assert set(ids2.tolist()) <= set(range(102, 130)) - set(seen.indices.tolist())
    assert len(ids2) == len(set(range(102, 130)) - set(seen.indices.tolist()))
    batch_ids, _ = model.recommend_batch(np.array([0]), seen, n=20)
    np.testing.assert_array_equal(batch_ids[0], ids)


def test_explain_returns_the_users_own_liked_items(trained):
    model = trained.model
    user = 11
    row = trained.train.confidence[user]
    ids, _ = model.recommend(user, trained.train.seen[user], n=1)
    reasons = model.explain(row, int(ids[0]), n=3)
    assert len(reasons) in range(1, 3 + 1)
    assert {i for i, _ in reasons} <= set(row.indices.tolist())
    contributions = [c for _, c in reasons]
    assert contributions == sorted(contributions, reverse=True) and contributions[-1] > 0
    assert model.explain(sp.csr_matrix((1, model.n_items), dtype=np.float32), 0) == []


def test_explain_decomposes_the_recalculated_score(trained):
    model = trained.model
    row = trained.train.confidence[4]
    vector = model.recalculate_user(row)
    reasons = model.explain(row, 17, n=model.n_items)
    # Only positive contributions are returned, so they bound the score from above.
    assert sum(c for _, c in reasons) >= float(model.score_items(vector, np.array([17]))[0])
    # With a single liked item its contribution is the whole score.
    single = sp.csr_matrix(([1.0], ([0], [17])), shape=(1, model.n_items), dtype=np.float32)
    [(item, contribution)] = model.explain(single, 17)
    expected = model.score_items(model.recalculate_user(single), np.array([17]))[0]
    assert item == 17 and contribution == pytest.approx(float(expected), rel=1e-4)


def test_similar_items_come_from_the_same_cluster(trained):
    model = trained.model
    clusters = trained.data.item_clusters
    seeds = [_popular_cluster_items(trained, c, 1)[0] for c in range(8)]
    for seed in seeds:
        idx = int(model.item_index.to_index(np.array([seed]))[0])
        ids, scores = model.similar_items(idx, n=10)
        assert idx not in ids.tolist() and np.all(scores <= 1.0 + 1e-5)
        same = (clusters[model.item_index.to_ids(ids)] == clusters[seed]).sum()
        assert same >= 8, (seed, same)


def test_match_score_is_a_monotonic_probability(trained):
    model = trained.model
    raw = np.linspace(-2, 2, 401)
    score = model.match_score(raw)
    assert score.min() >= 0.0 and score.max() <= 1.0
    assert np.all(np.diff(score) >= 0)
    assert np.all(np.diff(model.match_score(np.linspace(-0.5, 1.0, 50))) > 0)
    ids, top_scores = model.recommend(3, trained.train.seen[3], n=5)
    random_items = np.random.default_rng(0).integers(0, model.n_items, 200)
    random_raw = model.score_items(model.user_factors[3], random_items)
    assert model.match_score(top_scores).min() > np.median(model.match_score(random_raw))
    assert model.match_score(top_scores).min() > 0.5
    assert model.calibration[0] > 0


def test_training_is_deterministic_and_reports_progress():
    from recs.engine.als import AlsParams, train
    from recs.engine.synthetic import generate

    matrix = generate(300, 400, 8_000, seed=9).interactions.to_matrix()
    calls = []
    params = AlsParams(factors=16, iterations=4)
    a = train(matrix, params, progress=lambda *args: calls.append(args))
    b = train(matrix, params)
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    assert [c for c in calls if c[0] == "fit"] == [("fit", i, 4) for i in range(1, 5)]
    assert a.item_factors.dtype == np.float32 and a.item_factors.shape == (400, 16)


def test_popular_fallback_excludes_seen(trained):
    model = trained.model
    top = model.popular(5)
    assert np.all(np.diff(model.item_popularity[top]) <= 0)
    assert top[0] not in model.popular(5, exclude_idx=top[:1]).tolist()


def test_recalculate_user_is_the_exact_hu_koren_volinsky_solve(trained):
    from implicit.cpu.als import AlternatingLeastSquares

    model = trained.model
    row = trained.train.confidence[8]
    y = model.item_factors.astype(np.float64)
    c = np.ones(model.n_items)
    c[row.indices] = 1.0 + model.params.alpha * row.data
    p = np.zeros(model.n_items)
    p[row.indices] = 1.0
    reg = model.params.regularization * np.eye(model.params.factors)
    dense = np.linalg.solve(y.T @ (c[:, None] * y) + reg, y.T @ (c * p))
    np.testing.assert_allclose(model.recalculate_user(row), dense, rtol=1e-3, atol=1e-5)

    # implicit's own solver, fed our pre-computed confidence with alpha=1, agrees too.
    als = AlternatingLeastSquares(
        factors=model.params.factors, regularization=model.params.regularization, alpha=1.0
    )
    als.user_factors, als.item_factors = model.user_factors, model.item_factors
    theirs = als.recalculate_user(0, model.confidence(row))
    np.testing.assert_allclose(model.recalculate_user(row), theirs, rtol=1e-3, atol=1e-4)


def test_user_matrix_drops_films_unknown_to_the_model(trained):
    model = trained.model
    known = model.item_index.to_ids(np.array([3, 4]))
    rows = Interactions(
        np.array([5, 5, 5]),
        np.array([known[0], known[1], 10**9]),
        np.array([5.0, 2.0, 5.0], np.float32),
        np.zeros(3, np.int8),
        np.zeros(3, np.int64),
    )
    m = model.user_matrix(rows)
    assert m.dropped == 1
    assert m.confidence.indices.tolist() == [3]  # the 2-star rating is seen, not liked
    assert m.seen.indices.tolist() == [3, 4]


def test_explain_batch_matches_explain_item_by_item(trained):
    model = trained.model
    row = trained.train.confidence[11]
    ids, _ = model.recommend(11, trained.train.seen[11], n=8)
    batch = model.explain_batch(row, ids, n=3)
    assert len(batch) == 8
    for item, reasons in zip(ids, batch, strict=True):
        single = model.explain(row, int(item), n=3)
        assert [i for i, _ in reasons] == [i for i, _ in single]
        np.testing.assert_allclose([c for _, c in reasons], [c for _, c in single], rtol=1e-6)
    empty = sp.csr_matrix((1, model.n_items), dtype=np.float32)
    assert model.explain_batch(empty, ids[:2]) == [[], []]
