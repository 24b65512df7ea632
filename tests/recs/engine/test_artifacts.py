import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from recs.engine import artifacts
from recs.engine.artifacts import ArtifactError, load, save
from recs.engine.rows import bfloat16_decode


def test_round_trip_is_exact_but_for_bfloat16_and_memory_mapped(hybrid, tmp_path):
    model = hybrid.model
    path = save(model, tmp_path / "v1", meta={"ndcg": 0.3})
    names = sorted(p.name for p in path.iterdir())
    arrays = (*artifacts.ARRAYS, *artifacts.OPTIONAL_ARRAYS, artifacts.EASE_DIAG)
    assert names == sorted([f"{n}.npy" for n in arrays] + ["meta.json", "params.json"])
    loaded = load(path)
    assert isinstance(loaded.als.item_factors, np.memmap)
    assert isinstance(loaded.ease.weights, np.memmap)
    np.testing.assert_array_equal(loaded.als.item_factors, model.als.item_factors)
    # B is stored as bfloat16: 8 significant bits, relative error at most 2**-8.
    b = bfloat16_decode(loaded.ease.weights)
    np.testing.assert_allclose(b, model.ease.weights, rtol=2**-8, atol=0)
    np.testing.assert_array_equal(loaded.ease.diag, model.ease.diag)
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
    # The loaded model computes what the in-memory one computes with the rounded B.
    rounded = replace(model, ease=replace(model.ease, weights=b))
    np.testing.assert_allclose(
        loaded.user_scores(rows).scores, rounded.user_scores(rows).scores, rtol=1e-5, atol=1e-5
    )
    assert artifacts.read_meta(path)["extra"] == {"ndcg": 0.3}
    assert artifacts.files(artifacts.read_meta(path))[-1] == "meta.json"


def test_existing_version_is_never_overwritten(hybrid, tmp_path):
    save(hybrid.model, tmp_path / "v1")
    with pytest.raises(FileExistsError):
        save(hybrid.model, tmp_path / "v1")


@pytest.mark.parametrize(
    "name", ["item_factors.npy", "ease_bf16.npy", "cooc_data.npy", "params.json"]
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
    model = replace(hybrid.model, cooc=None)
    path = save(model, tmp_path / "v1")
    assert not any(p.name.startswith("cooc_") for p in path.iterdir())
    loaded = load(path)
    assert loaded.cooc is None
    rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == 5)
    model = replace(model, ease=replace(model.ease, weights=bfloat16_decode(loaded.ease.weights)))
    np.testing.assert_allclose(
        loaded.user_scores(rows).scores, model.user_scores(rows).scores, rtol=1e-5, atol=1e-5
    )


def _as_format_2(path: Path, model) -> None:  # noqa: ANN001
    """Rewrite a saved version as the format-2 code wrote it: ``B`` as float32
    ``ease_weights``, no ``ease_diag``, ``format_version`` 2."""
    (path / "ease_bf16.npy").unlink()
    (path / "ease_diag.npy").unlink()
    np.save(path / "ease_weights.npy", np.asarray(model.ease.weights, np.float32))
    params = json.loads((path / "params.json").read_text())
    del params["has_ease_diag"]
    (path / "params.json").write_text(json.dumps(params))
    meta = json.loads((path / "meta.json").read_text())
    sums = meta["checksums"]
    for name in ("ease_bf16.npy", "ease_diag.npy"):
        del sums[name]
    for name in ("ease_weights.npy", "params.json"):
        sums[name] = artifacts._sha256(path / name)
    meta["format_version"] = 2
    (path / "meta.json").write_text(json.dumps(meta))


def test_format_2_versions_still_load_and_serve_what_they_served(hybrid, tmp_path):
    model = hybrid.model
    path = save(model, tmp_path / "v1")
    _as_format_2(path, model)
    loaded = load(path)
    assert loaded.ease.weights.dtype == np.float32 and loaded.ease.diag is None
    np.testing.assert_array_equal(loaded.ease.weights, model.ease.weights)
    rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == 5)
    state, want = loaded.user_scores(rows), model.user_scores(rows)
    np.testing.assert_allclose(state.scores, want.scores, rtol=1e-5, atol=1e-5)
    asked = np.argsort(-state.scores)[:10]
    assert loaded.explain(state, asked) == model.explain(want, asked)


def test_a_format_2_file_under_a_format_3_name_is_refused(hybrid, tmp_path):
    path = save(hybrid.model, tmp_path / "v1")
    np.save(path / "ease_bf16.npy", np.asarray(hybrid.model.ease.weights, np.float32))
    meta = json.loads((path / "meta.json").read_text())
    meta["checksums"]["ease_bf16.npy"] = artifacts._sha256(path / "ease_bf16.npy")
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="dtype"):
        load(path)


def test_bfloat16_keeps_the_served_rankings(hybrid, tmp_path):
    """The served (bfloat16) EASE ranks each viewer's top 10 as the float32 one does."""
    loaded = load(save(hybrid.model, tmp_path / "v1"))
    users = np.arange(0, 200)
    served = loaded.ease.scores(hybrid.signal[users])
    exact = hybrid.model.ease.scores(hybrid.signal[users])
    top = lambda s: np.argsort(-s, axis=1, kind="stable")[:, :10]  # noqa: E731
    pairs = zip(top(served), top(exact), strict=True)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])
    assert overlap >= 0.99
