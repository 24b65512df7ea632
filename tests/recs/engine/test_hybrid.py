"""The hybrid (ALS + EASE blend): closed form, real-time scores, explanations, calibration,
tuning and the one recipe, on planted synthetic data."""

import numpy as np
import scipy.sparse as sp

from recs.engine import ease as ease_engine
from recs.engine.als import AlsParams
from recs.engine.ease import EaseParams
from recs.engine.evaluate import evaluate_model, evaluate_scorer
from recs.engine.hybrid import (
    BlendParams,
    HybridParams,
    blend,
    fit_isotonic,
    reliability_table,
    signal_matrix,
    zscore_rows,
)
from recs.engine.matrix import KIND_PLAYLIST, KIND_RATING, ConfidenceWeights, IdIndex, Interactions
from recs.engine.recipe import run
from recs.engine.synthetic import generate
from recs.engine.tune import coverage_tie_break, tune


def _user_rows(data, user: int) -> Interactions:
    rows = data.interactions
    return rows.subset(rows.user_ids == user)


def test_zscore_rows_in_place_matches_the_copy():
    rng = np.random.default_rng(1)
    scores = (rng.standard_normal((5, 3_000)) * 4 + 2).astype(np.float32)
    scores[4] = 7.0  # a constant row stays finite (zero)
    copied = zscore_rows(scores)
    assert not np.shares_memory(copied, scores)
    np.testing.assert_allclose(copied[:4].mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(copied[:4].std(axis=1), 1.0, rtol=1e-5)
    assert np.all(copied[4] == 0.0)
    inplace = zscore_rows(scores, inplace=True)
    assert np.shares_memory(inplace, scores)
    np.testing.assert_allclose(inplace, copied, atol=1e-6)


def test_ease_is_the_closed_form_solution():
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((40, 12)) < 0.3) * rng.integers(1, 6, (40, 12)) / 5.0)
    model = ease_engine.fit(x, EaseParams(l2=3.0, min_item_users=1))
    dense = x.toarray().astype(np.float64)
    p = np.linalg.inv(dense.T @ dense + 3.0 * np.eye(12))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights, expected, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(model.scores(x), dense @ expected, rtol=1e-3, atol=1e-4)


def test_spd_inverse_works_in_place_and_matches_the_lu_inverse():
    rng = np.random.default_rng(1)
    r = rng.random((300, 300)).astype(np.float32)
    a = r @ r.T + 30.0 * np.eye(300, dtype=np.float32)
    expected = np.linalg.inv(a.astype(np.float64))
    work = a.copy()
    out = ease_engine.spd_inverse(work, block=64)  # several blocks and a ragged last one
    assert np.shares_memory(out, work) and out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-6)
    np.testing.assert_array_equal(out, out.T)


def test_ease_keeps_only_movies_with_enough_users_and_caps_the_matrix():
    x = sp.csr_matrix(np.array([[1, 1, 0, 1], [1, 0, 0, 1], [1, 1, 1, 0]], dtype=np.float32))
    model = ease_engine.fit(x, EaseParams(l2=1.0, min_item_users=2))
    assert model.items.tolist() == [0, 1, 3] and model.weights.shape == (3, 3)
    assert not model.scores(x)[:, 2].any()  # a rare movie scores 0
    capped = ease_engine.fit(x, EaseParams(l2=1.0, min_item_users=1, max_items=2))
    assert capped.items.tolist() == [0, 1] or capped.items.tolist() == [0, 3]


def test_signal_reads_stars_over_five_and_low_ratings_as_a_weak_negative():
    rows = Interactions(
        np.array([1, 1, 1, 2]), np.array([10, 11, 12, 10]), np.array([5.0, 2.0, 0.0, 4.0]),
        np.array([KIND_RATING, KIND_RATING, KIND_PLAYLIST, KIND_RATING]), np.zeros(4),
    )  # fmt: skip
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    weights = ConfidenceWeights(playlist=0.6)
    m = signal_matrix(rows, weights, -0.1, now=None, user_index=users, item_index=items)
    np.testing.assert_allclose(m.toarray(), [[1.0, -0.1, 0.6], [0.8, 0.0, 0.0]], rtol=1e-6)


def test_blend_of_z_scores_and_popularity_penalty():
    a = np.array([[1.0, 2.0, 3.0]], np.float32)
    e = np.array([[3.0, 2.0, 1.0]], np.float32)
    za, ze = zscore_rows(a), zscore_rows(e)
    np.testing.assert_allclose(za.mean(), 0, atol=1e-6)
    np.testing.assert_allclose(za.std(), 1, atol=1e-5)
    assert np.allclose(blend(za, ze, np.zeros(3, np.float32), BlendParams(als_weight=0.5)), 0)
    pop = np.array([1.0, 0.0, -1.0], np.float32)
    out = blend(za, ze, pop, BlendParams(als_weight=1.0, popularity_penalty=0.5))
    np.testing.assert_allclose(out, za - 0.5 * pop, rtol=1e-6)


def test_hybrid_beats_both_parts_alone_on_planted_data(hybrid):
    model, matrix, split, signal = hybrid.model, hybrid.matrix, hybrid.split, hybrid.signal
    both = evaluate_scorer(lambda u: model.score_batch(u, signal[u]), matrix, split)
    als = evaluate_model(model.als, matrix, split)
    pop_ndcg = evaluate_scorer(lambda u: np.tile(matrix.popularity(), (u.size, 1)), matrix, split)
    assert both.ndcg > 1.5 * pop_ndcg.ndcg
    assert both.ndcg >= 0.97 * als.ndcg
    assert both.coverage >= 0.05


def test_a_new_rating_changes_the_scores_without_retraining(hybrid):
    data, model = hybrid.data, hybrid.model
    rows = _user_rows(data, 3)
    before = model.user_scores(rows, now=data.now)
    # Five top ratings of one cluster this user never touched pull that cluster up.
    touched = set(rows.item_ids.tolist())
    cluster = int(data.item_clusters[rows.item_ids[0]] + 1) % int(data.item_clusters.max() + 1)
    members = [i for i in np.flatnonzero(data.item_clusters == cluster) if i not in touched]
    new = Interactions.ratings(np.full(5, 3), np.array(members[:5]), np.full(5, 5.0))
    after = model.user_scores(Interactions.concat([rows, new]), now=data.now)
    idx = model.item_index.to_index(np.array(members[5:]))
    assert after.scores[idx].mean() > before.scores[idx].mean() + 0.1
    # A brand-new user (unknown to the model) gets scores from their rows alone.
    stranger = Interactions.ratings(np.full(5, 10**6), np.array(members[:5]), np.full(5, 5.0))
    fresh = model.user_scores(stranger, now=data.now)
    top, _ = model.recommend(fresh, 10, exclude_idx=fresh.seen_idx)
    clusters = data.item_clusters[model.item_index.to_ids(top)]
    assert (clusters == cluster).mean() >= 0.8


def test_explanations_decompose_the_blended_score_per_item(hybrid):
    data, model = hybrid.data, hybrid.model
    user = int(np.flatnonzero(data.user_clusters[:, 1] >= 0)[0])  # a two-cluster user
    state = model.user_scores(_user_rows(data, user), now=data.now)
    top, _ = model.recommend(state, 10, exclude_idx=state.seen_idx)
    sources, contrib = model.contributions(state, top)
    assert set(sources.tolist()) <= set(state.signal.indices.tolist())
    # Without popularity penalty, score differences are contribution-sum differences.
    assert model.params.blend.popularity_penalty == 0
    sums = contrib.sum(axis=0)
    np.testing.assert_allclose(
        sums - sums[0], state.scores[top] - state.scores[top[0]], rtol=1e-3, atol=1e-3
    )
    reasons = model.explain(state, top, n=3)
    assert all(1 <= len(r) <= 3 for r in reasons)
    for column, r in zip(contrib.T, reasons, strict=True):
        assert r[0] == sources[np.argmax(column)]
    # Recommendations from the user's two clusters are explained by different movies.
    assert len({tuple(r) for r in reasons}) > 1


def test_match_is_calibrated_monotone_and_rated_movies_reflect_the_rating(hybrid):
    data, model = hybrid.data, hybrid.model
    assert np.all(np.diff(model.calibration_p) >= 0) and np.all(np.diff(model.calibration_x) > 0)
    rows = _user_rows(data, 8)
    state = model.user_scores(rows, now=data.now)
    order = np.argsort(state.scores)
    unrated = np.array([i for i in order if i not in state.rated])
    probs = model.match(state, unrated)
    assert np.all(np.diff(probs) >= -1e-12) and 0 <= probs.min() <= probs.max() <= 1
    rated = rows.subset(rows.kinds == KIND_RATING)
    idx = model.item_index.to_index(rated.item_ids[:3])
    np.testing.assert_allclose(model.match(state, idx), rated.scores[:3] / 5.0, rtol=1e-6)


def test_isotonic_fit_and_reliability_table_on_known_probabilities():
    rng = np.random.default_rng(1)
    x = rng.random(20_000)
    y = (rng.random(20_000) < x).astype(float)  # P(like | x) = x
    xs, ps = fit_isotonic(x, y)
    assert np.all(np.diff(ps) >= 0)
    np.testing.assert_allclose(np.interp([0.2, 0.5, 0.8], xs, ps), [0.2, 0.5, 0.8], atol=0.06)
    table = reliability_table(np.interp(x, xs, ps), y)
    assert len(table) == 10 and sum(r["n"] for r in table) == 20_000
    assert all(abs(r["predicted"] - r["observed"]) < 0.05 for r in table)


def test_tuning_is_bounded_uses_validation_only_and_picks_the_best_blend():
    data = generate(600, 800, 30_000, seed=2)
    calls = []
    result = tune(
        data.interactions,
        base=HybridParams(als=AlsParams(iterations=5)),
        als_grid={"factors": [16, 32], "regularization": [1.0, 50.0], "alpha": [5.0]},
        ease_grid=[20.0, 200.0],
        max_trials=3,
        ndcg_tolerance=0.0,  # the plain best-NDCG choice (the tie-break is tested below)
        progress=lambda *a: calls.append(a),
    )
    stages = [row["stage"] for row in result.table]
    assert stages.count("als") == 3 and stages.count("ease") == 2 and stages.count("cooc") == 1
    assert calls[-1] == ("tune", 7, 7)
    blends = [row for row in result.table if row["stage"] == "blend"]
    # Coordinate-wise: ALS weight x co-occurrence weight, then penalty, then ALS weight again.
    assert len(blends) <= 11 * 5 + 5 + 11
    assert {row["cooc_weight"] for row in blends} == {0.0, 0.2, 0.4, 0.7, 1.0}
    best = max(blends, key=lambda row: row["ndcg@10"])
    assert result.validation["ndcg@10"] == best["ndcg@10"]
    chosen = result.best.blend
    assert (chosen.als_weight, chosen.cooc_weight, chosen.popularity_penalty) == (
        best["als_weight"], best["cooc_weight"], best["popularity_penalty"],
    )  # fmt: skip
    assert result.validation["ndcg@10"] >= result.validation["als_ndcg@10"]
    assert result.validation["ndcg@10"] >= result.validation["ease_ndcg@10"]
    assert result.best.als.iterations == 5


def test_recipe_evaluates_calibrates_and_refits_with_the_same_parameters():
    data = generate(800, 1000, 40_000, seed=5)
    stages = set()
    params = HybridParams(
        als=AlsParams(factors=32, iterations=8), ease=EaseParams(l2=50.0, min_item_users=1)
    )
    result = run(data.interactions, params, now=data.now, progress=lambda s, d, t: stages.add(s))
    assert {"fit", "evaluate", "calibrate"} <= stages
    assert set(result.timings) == {"split", "fit", "evaluate", "calibrate", "refit"}
    assert result.metrics.ndcg >= 1.5 * result.baseline.ndcg
    assert set(result.components) == {"als", "ease", "cooc"}
    assert result.model.n_users == 800  # refit on every row
    np.testing.assert_array_equal(result.model.calibration_p, result.model.calibration_p)
    assert len(result.reliability) == 10
    assert result.counts["test_ratings"] > 0
    assert result.extra["refit"]


def test_recipe_serves_the_evaluated_model_when_the_holdout_is_a_sliver():
    data = generate(800, 1000, 40_000, seed=5)
    params = HybridParams(
        als=AlsParams(factors=16, iterations=4), ease=EaseParams(l2=50.0, min_item_users=1)
    )
    result = run(data.interactions, params, now=data.now, max_test_users=40, refit_min_heldout=0.02)
    assert not result.extra["refit"] and "refit" not in result.timings
    assert result.metrics.n_users <= 40
    assert result.counts["test_ratings"] < 0.02 * result.counts["interactions"]
    assert result.model.n_users == 800 and result.model.n_items == result.counts["movies"]
    # The components are evaluated from the same batches as the blend.
    assert set(result.components) == {"als", "ease", "cooc"}
    assert result.components["ease"].n_users == result.metrics.n_users
    # A bigger holdout than the threshold still refits on every row.
    refit = run(data.interactions, params, now=data.now, max_test_users=400, refit_min_heldout=0.02)
    assert refit.extra["refit"] and "refit" in refit.timings


def test_the_novelty_control_trades_ndcg_for_coverage_on_the_same_split():
    data = generate(800, 1000, 40_000, seed=5)
    params = HybridParams(
        als=AlsParams(factors=32, iterations=8), ease=EaseParams(l2=50.0, min_item_users=1)
    )
    result = run(data.interactions, params, now=data.now, refit=False, novelty_grid=(0.0, 0.2))
    grid = result.novelty
    assert grid[0.0] == result.metrics  # no penalty is the model as evaluated
    assert grid[0.2].coverage > grid[0.0].coverage
    assert grid[0.2].ndcg < grid[0.0].ndcg
    forced = run(data.interactions, params, now=data.now, refit=False, popularity_penalty=0.2)
    assert forced.params.blend.popularity_penalty == 0.2
    assert forced.model.params.blend.popularity_penalty == 0.2
    assert forced.metrics == grid[0.2]


def test_tuning_prefers_coverage_among_blends_within_the_ndcg_tolerance():
    data = generate(600, 800, 30_000, seed=2)
    common = dict(
        base=HybridParams(als=AlsParams(iterations=5)),
        als_grid={"factors": [16], "regularization": [10.0], "alpha": [5.0]},
        ease_grid=[50.0],
        max_trials=1,
    )
    strict = tune(data.interactions, ndcg_tolerance=0.0, **common)
    tolerant = tune(data.interactions, ndcg_tolerance=0.03, **common)
    blends = [row for row in tolerant.table if row["stage"] == "blend"]
    best = max(row["ndcg@10"] for row in blends)
    assert strict.validation["ndcg@10"] == best  # no tolerance: the best NDCG, as before
    near = [row for row in blends if row["ndcg@10"] >= best * (1 - 0.03)]
    assert tolerant.validation["coverage"] == max(row["coverage"] for row in near)
    assert tolerant.validation["coverage"] > strict.validation["coverage"]
    assert tolerant.validation["ndcg@10"] >= best * (1 - 0.03)
    assert tolerant.validation["best_ndcg@10"] == best
    chosen = tolerant.best.blend
    assert (chosen.als_weight, chosen.cooc_weight, chosen.popularity_penalty) != (
        strict.best.blend.als_weight, strict.best.blend.cooc_weight,
        strict.best.blend.popularity_penalty,
    )  # fmt: skip


def test_coverage_tie_break_picks_the_widest_list_within_the_tolerance():
    points = {
        (1.0, 0.0, 0.0): (0.400, 0.10),  # best NDCG
        (0.5, 0.0, 0.0): (0.399, 0.12),  # within 0.5%, wider
        (0.5, 0.0, 0.4): (0.397, 0.20),  # within 0.75%: only with a larger tolerance
        (0.0, 0.0, 0.0): (0.380, 0.30),  # too far
    }
    best = (1.0, 0.0, 0.0)
    assert coverage_tie_break(points, best, 0.0) == best
    assert coverage_tie_break(points, best, 0.005) == (0.5, 0.0, 0.0)
    assert coverage_tie_break(points, best, 0.01) == (0.5, 0.0, 0.4)
