import numpy as np

from recs.engine.matrix import KIND_FAVORITE, KIND_RATING, Interactions
from recs.engine.split import holdout_split, validation_split
from recs.engine.synthetic import generate


def _pairs(user_ids, item_ids):
    return set(zip(user_ids.tolist(), item_ids.tolist(), strict=True))


def test_holds_out_rounded_fraction_of_each_users_ratings():
    data = generate(300, 400, 12_000, seed=3).interactions
    split = holdout_split(data, fraction=0.2, seed=1)
    rated = data.kinds == KIND_RATING
    n_rated = np.bincount(data.user_ids[rated], minlength=300)
    expected = np.minimum(np.floor(0.2 * n_rated + 0.5), np.maximum(n_rated - 1, 0))
    got = np.bincount(split.test_user_ids, minlength=300)
    np.testing.assert_array_equal(got, expected)


def test_only_ratings_are_held_out_and_nothing_leaks():
    data = generate(300, 400, 12_000, seed=3).interactions
    # A favorite on a rated pair must leave train together with the held-out rating.
    extra = Interactions(
        data.user_ids[data.kinds == KIND_RATING],
        data.item_ids[data.kinds == KIND_RATING],
        np.zeros(int((data.kinds == KIND_RATING).sum()), np.float32),
        np.full(int((data.kinds == KIND_RATING).sum()), KIND_FAVORITE, np.int8),
        np.zeros(int((data.kinds == KIND_RATING).sum()), np.int64),
    )
    both = Interactions.concat([data, extra])
    split = holdout_split(both, fraction=0.25, seed=5)
    test = _pairs(split.test_user_ids, split.test_item_ids)
    train = _pairs(split.train.user_ids, split.train.item_ids)
    assert test and not (test & train)
    assert len(test) == split.n_test  # one row per held-out pair
    is_rating = data.kinds == KIND_RATING
    rated = _pairs(data.user_ids[is_rating], data.item_ids[is_rating])
    assert test <= rated
    assert len(split.train) == len(both) - 2 * split.n_test


def test_every_tested_user_keeps_a_training_rating():
    data = generate(200, 300, 6_000, seed=4).interactions
    split = holdout_split(data, fraction=0.9, seed=1)
    train_raters = set(split.train.user_ids[split.train.kinds == KIND_RATING].tolist())
    assert set(split.test_user_ids.tolist()) <= train_raters


def test_seeded_determinism():
    data = generate(200, 300, 6_000, seed=4).interactions
    a = holdout_split(data, seed=11)
    b = holdout_split(data, seed=11)
    c = holdout_split(data, seed=12)
    np.testing.assert_array_equal(a.test_item_ids, b.test_item_ids)
    np.testing.assert_array_equal(a.train.item_ids, b.train.item_ids)
    assert _pairs(a.test_user_ids, a.test_item_ids) != _pairs(c.test_user_ids, c.test_item_ids)


def test_relevance_and_validation_split_stay_inside_train():
    data = generate(200, 300, 6_000, seed=4).interactions
    split = holdout_split(data, seed=1)
    users, items = split.relevant()
    assert users.size == items.size == int((split.test_scores >= 4.0).sum()) > 0
    val = validation_split(split)
    val_pairs = _pairs(val.test_user_ids, val.test_item_ids)
    assert val_pairs <= _pairs(split.train.user_ids, split.train.item_ids)
    assert not (val_pairs & _pairs(split.test_user_ids, split.test_item_ids))


def test_max_users_tests_a_seeded_sample_and_keeps_everything_else_in_train():
    data = generate(300, 400, 12_000, seed=3).interactions
    full = holdout_split(data, fraction=0.2, seed=1)
    sampled = holdout_split(data, fraction=0.2, seed=1, max_users=50)
    tested = np.unique(sampled.test_user_ids)
    assert tested.size == 50
    rated = data.kinds == KIND_RATING
    n_rated = np.bincount(data.user_ids[rated], minlength=300)
    got = np.bincount(sampled.test_user_ids, minlength=300)
    np.testing.assert_array_equal(got[tested], np.floor(0.2 * n_rated[tested] + 0.5))
    assert len(sampled.train) == len(data) - sampled.n_test  # the others lost nothing
    again = holdout_split(data, fraction=0.2, seed=1, max_users=50)
    np.testing.assert_array_equal(again.test_item_ids, sampled.test_item_ids)
    # Without a cap (or a cap above the number of users) the split is the uncapped one.
    wide = holdout_split(data, fraction=0.2, seed=1, max_users=10_000)
    np.testing.assert_array_equal(wide.test_item_ids, full.test_item_ids)


def test_sampled_split_drops_every_row_of_a_held_out_pair_and_keeps_the_rest_in_order():
    data = generate(300, 400, 12_000, seed=3).interactions
    rated = data.kinds == KIND_RATING
    # A favorite and a duplicate rating on rated pairs: both must follow the held-out rating.
    extra = Interactions(
        np.r_[data.user_ids[rated], data.user_ids[rated]],
        np.r_[data.item_ids[rated], data.item_ids[rated]],
        np.r_[np.zeros(rated.sum(), np.float32), data.scores[rated]],
        np.r_[np.full(rated.sum(), KIND_FAVORITE, np.int8), np.zeros(rated.sum(), np.int8)],
        np.zeros(2 * int(rated.sum()), np.int64),
    )
    both = Interactions.concat([data, extra])
    split = holdout_split(both, fraction=0.25, seed=5, max_users=40)
    test = _pairs(split.test_user_ids, split.test_item_ids)
    assert np.unique(split.test_user_ids).size == 40
    assert len(test) == split.n_test
    assert not (test & _pairs(split.train.user_ids, split.train.item_ids))
    # Untested users keep every row, and train rows keep the data's order.
    keep = ~np.isin(both.user_ids * 1000 + both.item_ids,
                    split.test_user_ids * 1000 + split.test_item_ids)  # fmt: skip
    np.testing.assert_array_equal(split.train.item_ids, both.item_ids[keep])
    np.testing.assert_array_equal(split.train.timestamps, both.timestamps[keep])


def test_sampled_split_of_ids_that_are_not_small_integers():
    data = generate(300, 400, 12_000, seed=3).interactions
    shifted = Interactions(
        data.user_ids * 7_919 - 10**9, data.item_ids, data.scores, data.kinds, data.timestamps
    )
    plain = holdout_split(data, fraction=0.2, seed=1, max_users=50)
    other = holdout_split(shifted, fraction=0.2, seed=1, max_users=50)
    assert np.unique(other.test_user_ids).size == 50
    rated = shifted.kinds == KIND_RATING
    ids, n_rated = np.unique(shifted.user_ids[rated], return_counts=True)
    got = dict(zip(*np.unique(other.test_user_ids, return_counts=True), strict=True))
    for user, n in zip(ids.tolist(), n_rated.tolist(), strict=True):
        assert got.get(user, 0) in (0, int(np.floor(0.2 * n + 0.5)))
    assert plain.n_test > 0 and other.n_test > 0
