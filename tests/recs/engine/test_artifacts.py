import json

import numpy as np
import pytest

from recs.engine import artifacts
from recs.engine.artifacts import ArtifactError, load, save


def test_round_trip_is_exact(trained, tmp_path):
    model = trained.model
    path = save(model, tmp_path / "v1", meta={"ndcg": 0.3})
    assert sorted(p.name for p in path.iterdir()) == ["ids.npz", "meta.json", "model.npz"]
    loaded = load(path)
    np.testing.assert_array_equal(loaded.user_factors, model.user_factors)
    np.testing.assert_array_equal(loaded.item_factors, model.item_factors)
    np.testing.assert_array_equal(loaded.item_popularity, model.item_popularity)
    assert loaded.user_factors.dtype == np.float32
    assert loaded.params == model.params
    assert loaded.weights == model.weights
    assert loaded.calibration == model.calibration
    assert loaded.user_index == model.user_index and loaded.item_index == model.item_index
    seen = trained.train.seen[5]
    np.testing.assert_array_equal(loaded.recommend(5, seen)[0], model.recommend(5, seen)[0])
    assert artifacts.read_meta(path)["extra"] == {"ndcg": 0.3}


def test_existing_version_is_never_overwritten(trained, tmp_path):
    save(trained.model, tmp_path / "v1")
    with pytest.raises(FileExistsError):
        save(trained.model, tmp_path / "v1")


@pytest.mark.parametrize("name", ["model.npz", "ids.npz"])
def test_corrupted_file_is_refused(trained, tmp_path, name):
    path = save(trained.model, tmp_path / "v1")
    data = bytearray((path / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / name).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        load(path)


def test_missing_file_and_unknown_format_are_refused(trained, tmp_path):
    path = save(trained.model, tmp_path / "v1")
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = 999
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format"):
        load(path)
    other = save(trained.model, tmp_path / "v2")
    (other / "ids.npz").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load(other)
    with pytest.raises(ArtifactError):
        load(tmp_path / "nope")


def test_failed_save_leaves_nothing_behind(trained, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = np.savez

    def savez_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as if the worker was killed mid-save
        return real(*args, **kwargs)

    monkeypatch.setattr(artifacts.np, "savez", savez_then_die)
    with pytest.raises(KeyboardInterrupt):
        save(trained.model, tmp_path / "v1")
    assert list(tmp_path.iterdir()) == []
