import math

import numpy as np
import pytest

from recs.engine.evaluate import (
    Metrics,
    compare,
    evaluate_model,
    evaluate_popularity,
    evaluate_scorers,
    ranking_metrics,
    top_k_dense,
)

L3 = 1 / math.log2(3)  # gain at rank 2


def test_hand_computed_metrics():
    recommended = np.array([[1, 2, 3], [4, -1, -1], [7, 8, 9]])
    # user 0 relevant {2, 5}; user 1 relevant {4}; user 2 nothing -> not averaged
    m = ranking_metrics(recommended, np.array([0, 0, 1]), np.array([2, 5, 4]), n_items=10, k=3)
    assert m.n_users == 2
    assert m.precision == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert m.recall == pytest.approx((1 / 2 + 1) / 2)
    assert m.ndcg == pytest.approx((L3 / (1 + L3) + 1.0) / 2)
    assert m.map == pytest.approx((0.5 / 2 + 1.0) / 2)
    assert m.coverage == pytest.approx(4 / 10)


def test_map_and_ndcg_with_several_hits():
    recommended = np.array([[0, 9, 1, 2]])
    m = ranking_metrics(recommended, np.array([0, 0, 0]), np.array([0, 1, 2]), n_items=10, k=4)
    assert m.precision == pytest.approx(3 / 4)
    assert m.recall == pytest.approx(1.0)
    assert m.map == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    dcg = 1 + 1 / math.log2(4) + 1 / math.log2(5)
    assert m.ndcg == pytest.approx(dcg / (1 + L3 + 1 / math.log2(4)))


def test_cut_at_k_and_ideal_capped_at_k():
    recommended = np.array([[5, 6, 0, 1]])
    # 4 relevant, k=2: no hits in the first 2
    m = ranking_metrics(recommended, np.zeros(4, int), np.array([0, 1, 2, 3]), 10, k=2)
    assert (m.precision, m.recall, m.ndcg, m.map) == (0.0, 0.0, 0.0, 0.0)
    perfect = ranking_metrics(np.array([[0, 1]]), np.zeros(4, int), np.array([0, 1, 2, 3]), 10, 2)
    assert perfect.ndcg == pytest.approx(1.0)
    assert perfect.map == pytest.approx(1.0)
    assert perfect.recall == pytest.approx(0.5)


def test_no_relevant_users_gives_zero_metrics():
    m = ranking_metrics(np.array([[1]]), np.array([], int), np.array([], int), 5, k=1)
    assert m == Metrics(1, 0.0, 0.0, 0.0, 0.0, 0.0, 0)


def test_compare_ratios():
    a = Metrics(10, 0.2, 0.4, 0.3, 0.1, 0.5, 3)
    b = Metrics(10, 0.1, 0.2, 0.1, 0.0, 0.25, 3)
    table = compare(a, b)
    assert table["ndcg"]["ratio"] == pytest.approx(3.0)
    assert table["map"]["ratio"] == float("inf")
    assert set(a.as_dict()) == {"k", "precision", "recall", "ndcg", "map", "coverage", "n_users"}


def test_als_beats_popularity_on_planted_data(trained):
    calls = []
    model = evaluate_model(
        trained.model, trained.train, trained.split, progress=lambda *a: calls.append(a)
    )
    baseline = evaluate_popularity(trained.train, trained.split)
    assert model.n_users == baseline.n_users > 1000
    assert model.ndcg >= 1.5 * baseline.ndcg, (model, baseline)
    assert model.precision > baseline.precision
    assert model.coverage > baseline.coverage
    assert calls and calls[-1][1] == calls[-1][2]


def test_evaluation_never_recommends_train_items(trained):
    users = np.arange(50)
    ids, _ = trained.model.recommend_batch(users, trained.train.seen[users], n=10)
    seen = trained.train.seen[users].toarray().astype(bool)
    assert not seen[np.arange(50)[:, None], ids].any()


def test_popularity_baseline_ranks_by_train_likes(trained):
    # A user who has seen nothing gets exactly the top-10 most liked training items.
    pop = trained.train.popularity()
    top = np.argsort(-pop, kind="stable")[:10]
    assert pop[top[0]] == pop.max()
    m = evaluate_popularity(trained.train, trained.split)
    assert 0 < m.ndcg < 1


def test_model_and_matrix_with_different_indexes_are_refused(trained):
    rows = trained.split.train
    other = rows.subset(rows.item_ids != 0).to_matrix()  # its own, smaller item index
    assert other.shape[1] == trained.train.shape[1] - 1
    with pytest.raises(ValueError, match="same id indexes"):
        evaluate_model(trained.model, other, trained.split)


@pytest.mark.parametrize("ties", [False, True])
def test_top_k_of_a_wide_catalogue_matches_a_full_sort(ties):
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    scores = rng.standard_normal((60, 20_000)).astype(np.float32)
    if ties:  # EASE/co-occurrence-like rows: most movies share one score
        scores[:, 2_000:] = 0.0
        scores[:3] = 0.0  # whole rows of equal scores take the plain path
        scores[3, :15] = 1.0
    seen = sp.random(60, 20_000, density=0.01, format="csr", random_state=4)
    seen.data[:] = 1.0
    got = top_k_dense(scores, seen, 10)
    masked = scores.copy()
    masked[seen.nonzero()] = -np.inf
    for row in range(60):
        best = np.sort(masked[row])[::-1][:10]
        np.testing.assert_array_equal(masked[row, got[row]], best)  # the 10 best, in order
        if row >= 3:  # not a row of equal scores: ties go to the lower column, as a sort does
            expected = np.lexsort((np.arange(masked.shape[1]), -masked[row]))[:10]
            np.testing.assert_array_equal(got[row], expected)
        assert not set(got[row].tolist()) & set(seen[row].indices.tolist())
        assert len(set(got[row].tolist())) == 10


def test_batches_in_threads_give_the_same_figures(trained):
    factors = trained.model.user_factors, trained.model.item_factors
    users = np.unique(trained.train.user_index.to_index(trained.split.test_user_ids))
    n_items = trained.train.shape[1]

    def run(workers):
        seen_batches = []

        def score(u):
            als = factors[0][u] @ factors[1].T
            return {"als": als, "negated": -als}

        figures = evaluate_scorers(
            score, ("als", "negated"), trained.train, trained.split, also_users=users,
            on_batch=lambda batch, _: seen_batches.append(batch), workers=workers,
            batch_cells=100 * n_items,
        )  # fmt: skip
        return figures, np.sort(np.concatenate(seen_batches))

    one, batches_one = run(1)
    two, batches_two = run(2)
    assert one == two
    assert one["als"].ndcg > 4 * one["negated"].ndcg
    np.testing.assert_array_equal(batches_one, batches_two)  # every user scored exactly once
    assert batches_one.size == np.unique(batches_one).size >= users.size
