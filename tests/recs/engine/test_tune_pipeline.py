import numpy as np

from recs.engine import artifacts, pipeline
from recs.engine.als import AlsParams
from recs.engine.synthetic import generate
from recs.engine.tune import tune


def test_grid_search_is_bounded_and_picks_best_ndcg():
    data = generate(600, 800, 30_000, seed=2)
    calls = []
    grid = {"regularization": [0.01, 50.0], "factors": [16, 32], "alpha": [1.0, 20.0]}
    result = tune(
        data.interactions,
        grid,
        base=AlsParams(iterations=5),
        max_trials=3,
        progress=lambda *a: calls.append(a),
    )
    assert len(result.table) == 3
    assert calls[-1] == ("tune", 3, 3)
    best = max(result.table, key=lambda row: row["ndcg"])
    assert result.best_ndcg == best["ndcg"]
    assert result.best_params.regularization == best["regularization"]
    assert result.best_params.iterations == 5


def test_pipeline_trains_evaluates_and_saves(tmp_path):
    data = generate(800, 1000, 40_000, seed=5)
    stages = set()
    result = pipeline.run(
        data.interactions,
        AlsParams(factors=32, iterations=8),
        artifact_dir=tmp_path / "v1",
        progress=lambda stage, done, total: stages.add(stage),
    )
    assert {"fit", "evaluate", "calibrate"} <= stages
    assert set(result.timings) == {"build", "split", "fit", "evaluate", "refit", "save"}
    assert result.comparison["ndcg"]["ratio"] >= 1.5
    loaded = artifacts.load(result.artifact)
    np.testing.assert_array_equal(loaded.item_factors, result.model.item_factors)
    assert artifacts.read_meta(result.artifact)["extra"]["metrics"]["ndcg"] == result.metrics.ndcg
    assert loaded.n_users == 800
