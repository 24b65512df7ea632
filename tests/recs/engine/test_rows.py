"""Serving reads the rows of the item-item matrices from the artifact's files, not the map."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine.artifacts import load, save
from recs.engine.hybrid import HybridModel
from recs.engine.rows import NpyFile, bfloat16_decode


def _mapped(tmp_path: Path, name: str, array: np.ndarray) -> np.ndarray:
    np.save(tmp_path / f"{name}.npy", array)
    return np.load(tmp_path / f"{name}.npy", mmap_mode="r")


def test_rows_and_ranges_read_from_the_file_equal_the_array(tmp_path):
    array = np.random.default_rng(0).standard_normal((50, 7)).astype(np.float32)
    source = NpyFile.of(_mapped(tmp_path, "a", array))
    assert source is not None and source.shape == (50, 7)
    for rows in ([3, 4, 5, 10, 3, 49, 0, 5], [0, 1, 2], [49], [7, 2], []):
        np.testing.assert_array_equal(source.read_rows(np.array(rows, np.int64)), array[rows])
    with pytest.raises(IndexError):
        source.read_rows(np.array([50]))
    flat = np.arange(100, dtype=np.int32)
    ranges = NpyFile.of(_mapped(tmp_path, "b", flat))
    got = ranges.read_ranges(np.array([5, 0, 90, 3]), np.array([8, 2, 100, 3]))
    np.testing.assert_array_equal(got, np.r_[flat[5:8], flat[0:2], flat[90:100]])


def test_only_whole_mapped_arrays_have_a_file(tmp_path):
    mapped = _mapped(tmp_path, "a", np.zeros((4, 3), np.float32))
    assert NpyFile.of(mapped) is not None
    assert NpyFile.of(mapped[1:]) is None  # a view: its offset is not the file's
    assert NpyFile.of(np.zeros((4, 3), np.float32)) is None


def test_a_loaded_model_reads_rows_and_serves_what_the_in_memory_model_serves(hybrid, tmp_path):
    path = save(hybrid.model, tmp_path / "v1")
    mapped, in_memory = load(path), load(path, mmap=False)
    assert mapped.ease.file is not None and mapped.cooc.files is not None
    assert in_memory.ease.file is None and in_memory.cooc.files is None
    for user in (5, 17, 123):
        rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == user)
        a, b = mapped.user_scores(rows), in_memory.user_scores(rows)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-5)
        asked = np.argsort(-a.scores)[:15]
        sources_a, matrix_a = mapped.contributions(a, asked)
        sources_b, matrix_b = in_memory.contributions(b, asked)
        np.testing.assert_array_equal(sources_a, sources_b)
        np.testing.assert_allclose(matrix_a, matrix_b, rtol=1e-5, atol=1e-6)
        assert mapped.explain(a, asked) == in_memory.explain(b, asked)


def test_batches_and_single_rows_give_the_in_memory_scores_and_contributions(hybrid, tmp_path):
    mapped = load(save(hybrid.model, tmp_path / "v1"))
    model = _rounded(hybrid.model, mapped)
    batch = hybrid.signal[:40]
    row = hybrid.signal[7]
    for part, reference in ((mapped.ease, model.ease), (mapped.cooc, model.cooc)):
        for rows in (batch, row):
            np.testing.assert_allclose(
                part.scores(rows), reference.scores(rows), rtol=1e-5, atol=1e-6
            )
        # Asked movies in any order, repeated, or none.
        for asked in (np.array([9, 3, 9, 0, 500]), np.array([], np.int64)):
            got_items, got = part.contributions(row, asked)
            want_items, want = reference.contributions(row, asked)
            np.testing.assert_array_equal(got_items, want_items)
            _close_to_rounding(got, want)


def test_cooccurrence_rows_read_once_serve_scores_and_contributions(hybrid, tmp_path):
    cooc = load(save(hybrid.model, tmp_path / "v1")).cooc
    row = hybrid.signal[7]
    read = cooc.read(row)
    np.testing.assert_allclose(
        cooc.scores(row, read), hybrid.model.cooc.scores(row), rtol=1e-5, atol=1e-6
    )
    asked = np.array([4, 8, 15])
    np.testing.assert_allclose(
        cooc.contributions(row, asked, read)[1],
        hybrid.model.cooc.contributions(row, asked)[1],
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="cover"):
        cooc.scores(hybrid.signal[8], read)


def test_explanations_read_the_asked_rows_and_versions_without_the_diagonal_still_explain(
    hybrid, tmp_path
):
    """``B[j, i] = B[i, j] * P[j, j] / P[i, i]``: with ``P``'s diagonal saved, the asked movies'
    rows give the viewer's movies' weights (each side rounded to bfloat16 on its own, so
    equal to within two roundings); without it (older versions) their own rows do, exactly."""
    path = save(hybrid.model, tmp_path / "v1")
    with_diag = load(path)
    without = load(path)
    without.ease = replace(without.ease, diag=None)
    assert with_diag.ease.diag is not None
    row = hybrid.signal[11]
    asked = np.array([2, 30, 31, 700])
    want = _rounded(hybrid.model, with_diag).ease.contributions(row, asked)[1]
    np.testing.assert_allclose(without.ease.contributions(row, asked)[1], want, rtol=1e-6)
    _close_to_rounding(with_diag.ease.contributions(row, asked)[1], want)


def _rounded(model: HybridModel, loaded: HybridModel) -> HybridModel:
    """``model`` in memory with the artifact's bfloat16-rounded B (float32): the reference
    a loaded model must reproduce exactly."""
    b = bfloat16_decode(np.asarray(loaded.ease.weights))
    return replace(model, ease=replace(model.ease, weights=b))


def _close_to_rounding(got: np.ndarray, want: np.ndarray) -> None:
    """Equal but for two bfloat16 roundings (2**-8 relative each) of the weights."""
    np.testing.assert_allclose(got, want, rtol=2**-7, atol=1e-9)


def _rss_kb(path: Path) -> dict[str, int]:
    """RSS of each mapping of a file under ``path`` in this process."""
    out: dict[str, int] = {}
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
            current = parts[5] if len(parts) > 5 and parts[5].startswith(str(path)) else None
        elif current and parts[0] == "Rss:":
            name = Path(current).name
            out[name] = out.get(name, 0) + int(parts[1])
    return out


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_serving_never_maps_the_item_item_matrices_into_the_process(hybrid, tmp_path):
    path = save(hybrid.model, tmp_path / "v1")
    model = load(path)
    for user in (5, 17, 123):
        rows = hybrid.data.interactions.subset(hybrid.data.interactions.user_ids == user)
        state = model.user_scores(rows)
        model.explain(state, np.argsort(-state.scores)[:15])
    rss = _rss_kb(path)
    assert rss.get("item_factors.npy", 0) > 0  # the map is there and used
    for name in ("ease_weights.npy", "cooc_data.npy", "cooc_indices.npy"):
        assert rss.get(name, 0) == 0, (name, rss)


def test_one_row_with_repeated_entries_sums_them_as_the_sparse_product_does(hybrid, tmp_path):
    mapped = load(save(hybrid.model, tmp_path / "v1"))
    reference = _rounded(hybrid.model, mapped)
    a, b = (int(i) for i in mapped.ease.items[:2])
    row = sp.csr_matrix(
        (np.array([0.4, 0.2, -0.1], np.float32), np.array([a, b, a]), np.array([0, 3])),
        shape=(1, mapped.n_items),
    )  # not canonical: movie ``a`` twice
    for part, want in ((mapped.ease, reference.ease), (mapped.cooc, reference.cooc)):
        np.testing.assert_allclose(part.scores(row), want.scores(row), rtol=1e-5, atol=1e-6)
