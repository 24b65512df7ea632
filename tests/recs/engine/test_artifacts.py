import json

import numpy as np
import pytest

from recs.engine import artifacts
from recs.engine.artifacts import ArtifactError, load, save


def test_round_trip_is_exact_and_memory_mapped(hybrid, tmp_path):
    model = hybrid.model
    path = save(model, tmp_path / "v1", meta={"ndcg": 0.3})
    names = sorted(p.name for p in path.iterdir())
    arrays = (*artifacts.ARRAYS, *artifacts.OPTIONAL_ARRAYS)
    assert names == sorted([f"{n}.npy" for n in arrays] + ["meta.json", "params.json"])
    loaded = load(path)
    assert isinstance(loaded.als.item_factors, np.memmap)
    assert isinstance(loaded.ease.weights, np.memmap)
    np.testing.assert_array_equal(loaded.als.item_factors, model.als.item_factors)
    np.testing.assert_array_equal(loaded.ease.weights, model.ease.weights)
    # scipy keeps a read-only view of the mapped file (no private copy per process).
    for part in ("data", "indices", "indptr"):
        array = getattr(loaded.cooc.weights, part)
        assert not array.flags.owndata and not array.flags.writeable
    assert (loaded.cooc.weights != model.cooc.weights).nnz == 0
    np.testing.assert_array_equal(loaded.calibration_p, model.calibration_p)
    assert loaded.params == model.params
    assert loaded.weights == model.weights
    assert loaded.item_index == model.item_index
    rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == 5)
    np.testing.assert_allclose(
        loaded.user_scores(rows).scores, model.user_scores(rows).scores, rtol=1e-5, atol=1e-5
    )
    assert artifacts.read_meta(path)["extra"] == {"ndcg": 0.3}
    assert artifacts.files(artifacts.read_meta(path))[-1] == "meta.json"


def test_existing_version_is_never_overwritten(hybrid, tmp_path):
    save(hybrid.model, tmp_path / "v1")
    with pytest.raises(FileExistsError):
        save(hybrid.model, tmp_path / "v1")


@pytest.mark.parametrize(
    "name", ["item_factors.npy", "ease_weights.npy", "cooc_data.npy", "params.json"]
)
def test_corrupted_file_is_refused(hybrid, tmp_path, name):
    path = save(hybrid.model, tmp_path / "v1")
    data = bytearray((path / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / name).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        load(path)


def test_missing_file_and_unknown_format_are_refused(hybrid, tmp_path):
    path = save(hybrid.model, tmp_path / "v1")
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = 999
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format"):
        load(path)
    other = save(hybrid.model, tmp_path / "v2")
    (other / "item_ids.npy").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load(other)
    with pytest.raises(ArtifactError):
        load(tmp_path / "nope")


def test_failed_save_leaves_nothing_behind(hybrid, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = np.save

    def save_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if the worker was killed mid-save
        return real(*args, **kwargs)

    monkeypatch.setattr(artifacts.np, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        save(hybrid.model, tmp_path / "v1")
    assert list(tmp_path.iterdir()) == []


def test_a_version_without_cooccurrence_saves_and_loads_without_its_arrays(hybrid, tmp_path):
    from dataclasses import replace

    model = replace(hybrid.model, cooc=None)
    path = save(model, tmp_path / "v1")
    assert not any(p.name.startswith("cooc_") for p in path.iterdir())
    loaded = load(path)
    assert loaded.cooc is None
    rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == 5)
    np.testing.assert_allclose(
        loaded.user_scores(rows).scores, model.user_scores(rows).scores, rtol=1e-5, atol=1e-5
    )
