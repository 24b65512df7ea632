import numpy as np

from recs.engine.matrix import KIND_RATING
from recs.engine.synthetic import generate


def test_deterministic_and_exact_size():
    a = generate(500, 800, 20_000, seed=1)
    b = generate(500, 800, 20_000, seed=1)
    c = generate(500, 800, 20_000, seed=2)
    assert len(a.interactions) == 20_000
    np.testing.assert_array_equal(a.interactions.item_ids, b.interactions.item_ids)
    np.testing.assert_array_equal(a.interactions.scores, b.interactions.scores)
    assert not np.array_equal(a.interactions.item_ids, c.interactions.item_ids)
    keys = a.interactions.user_ids * 800 + a.interactions.item_ids
    assert np.unique(keys).size == keys.size


def test_planted_tastes_show_in_ratings():
    d = generate(500, 800, 20_000, seed=1)
    rows = d.interactions
    rated = rows.kinds == KIND_RATING
    liked = d.user_likes_item(rows.user_ids, rows.item_ids)
    assert liked.mean() > 0.7
    assert rows.scores[rated & liked].mean() >= 4.0
    percentile = np.argsort(np.argsort(d.item_popularity)) / 799
    blockbuster = percentile[rows.item_ids] >= 0.97
    assert rows.scores[rated & ~liked & ~blockbuster].mean() <= 2.8
    # Blockbusters are liked outside their cluster too (what keeps popularity competitive).
    assert rows.scores[rated & ~liked & blockbuster].mean() >= 3.4
    flat = generate(500, 800, 20_000, seed=1, mainstream=0.0).interactions
    flat_liked = d.user_likes_item(flat.user_ids, flat.item_ids)
    assert flat.scores[(flat.kinds == KIND_RATING) & ~flat_liked].mean() <= 2.5
    assert set(np.unique(rows.kinds).tolist()) == {0, 1, 2, 3}
    assert np.all(rows.scores[rated] >= 0.5) and np.all(rows.scores[rated] <= 5.0)
    assert np.all(rows.scores[rated] * 2 == np.round(rows.scores[rated] * 2))


def test_popularity_has_a_long_tail():
    d = generate(3000, 800, 20_000, seed=1)
    counts = np.sort(np.bincount(d.interactions.item_ids, minlength=800))[::-1]
    assert counts[:80].sum() > 3 * counts[-400:].sum()  # top 10% vs bottom 50%


def test_uses_given_item_genres():
    genres = np.arange(300) % 4  # a "real catalogue" with 4 genres
    d = generate(200, 300, 5_000, seed=1, item_genres=genres, n_clusters=2)
    np.testing.assert_array_equal(d.item_genres, genres)
    np.testing.assert_array_equal(d.item_clusters, genres % 2)
