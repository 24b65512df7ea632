"""Save and load a model version as a directory of uncompressed ``.npy`` arrays + JSON.

Uncompressed ``.npy`` so serving processes map the arrays (``np.load(mmap_mode="r")``) and
share their pages instead of each holding a copy. Layout: one ``<name>.npy`` per array
(``ARRAYS``; the co-occurrence CSR arrays ``OPTIONAL_ARRAYS`` only when the model has
one, so versions written before it still load), ``params.json`` (hyper-parameters,
confidence weights), ``meta.json`` (format version, SHA-256 of every other file, caller
metadata such as metrics). ``save`` writes under a temporary name next to the target and
renames it into place, so a killed save leaves no half artifact; ``meta.json`` is written
last and is the list of what belongs to the version (``files``), which is what a remote
store copies. Arrays load with ``allow_pickle=False``.

Format 3 stores EASE's ``B`` as bfloat16 bits (``ease_bf16``, uint16: half of the largest
array, the same rankings; ``recs.engine.rows``) and ``P``'s diagonal (``ease_diag``, for
explanations). Format 2 artifacts (``B`` as float32 ``ease_weights``) still load; a reader
that only knows format 2 refuses a format 3 one (and keeps serving what it has). Serving
reads the rows of ``B`` and of the co-occurrence CSR a request needs from the files with
``pread`` (``recs.engine.rows``) instead of through the map: a mapped row brings its whole
page-cache folio into the worker's RSS (up to 2 MB on recent kernels), so a few requests
mapped nearly all of ``B`` into every worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .als import AlsModel, AlsParams
from .cooc import CoocModel
from .ease import EaseModel, EaseParams
from .hybrid import HybridModel, HybridParams
from .matrix import ConfidenceWeights, IdIndex
from .rows import NpyFile, bfloat16_encode

FORMAT_VERSION = 3
#: Formats ``load`` reads: 2 held ``B`` as float32 under ``EASE_FLOAT32``, no diagonal.
READABLE_FORMATS = (2, 3)
ARRAYS = (
    "user_ids",
    "item_ids",
    "user_factors",
    "item_factors",
    "item_popularity",
    "ease_bf16",
    "ease_items",
    "calibration_x",
    "calibration_p",
)
EASE_FLOAT32 = "ease_weights"
OPTIONAL_ARRAYS = ("cooc_data", "cooc_indices", "cooc_indptr")
#: Written when the EASE model has it (``has_ease_diag``), i.e. when it was fitted here.
EASE_DIAG = "ease_diag"
_ENCODE_ROWS = 512  # rows of B encoded at a time: bounded temporaries at save
META = "meta.json"
PARAMS = "params.json"


class ArtifactError(Exception):
    """The artifact is missing, of an unknown format, or fails its checksum."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def files(meta: dict[str, Any]) -> list[str]:
    """Every file of a version, ``meta.json`` last (the order a copy must follow)."""
    return [*sorted(meta.get("checksums", {})), META]


def _ease_bf16(weights: np.ndarray) -> np.ndarray:
    """``B`` as bfloat16 bits, a block of rows at a time (no full-size temporaries)."""
    if weights.dtype == np.uint16:
        return weights  # already bfloat16 (a loaded model saved again)
    out = np.empty(weights.shape, dtype=np.uint16)
    for lo in range(0, weights.shape[0], _ENCODE_ROWS):
        out[lo : lo + _ENCODE_ROWS] = bfloat16_encode(weights[lo : lo + _ENCODE_ROWS])
    return out


def save(
    model: HybridModel, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` to the directory ``path`` (which must not exist: versions are
    immutable). ``meta`` is stored in ``meta.json`` under ``"extra"`` (must be JSON-able)."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    als, ease = model.als, model.ease
    arrays = {
        "user_ids": als.user_index.to_array(),
        "item_ids": als.item_index.to_array(),
        "user_factors": als.user_factors,
        "item_factors": als.item_factors,
        "item_popularity": (
            als.item_popularity if als.item_popularity is not None else np.zeros(0, np.int64)
        ),
        "ease_bf16": _ease_bf16(ease.weights) if ease is not None else np.zeros((0, 0), np.uint16),
        "ease_items": ease.items if ease is not None else np.zeros(0, np.int64),
        "calibration_x": np.asarray(model.calibration_x, dtype=np.float64),
        "calibration_p": np.asarray(model.calibration_p, dtype=np.float64),
    }
    if model.cooc is not None:
        cooc = model.cooc.weights
        arrays.update(cooc_data=cooc.data, cooc_indices=cooc.indices, cooc_indptr=cooc.indptr)
    if ease is not None and ease.diag is not None:
        arrays[EASE_DIAG] = np.asarray(ease.diag, dtype=np.float32)
    saved = [name for name in (*ARRAYS, *OPTIONAL_ARRAYS, EASE_DIAG) if name in arrays]
    try:
        for name in saved:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arrays[name]), allow_pickle=False)
        document = {
            "params": model.params.to_dict(),
            "weights": als.weights.to_dict(),
            "has_ease": ease is not None,
            "has_cooc": model.cooc is not None,
            "has_ease_diag": EASE_DIAG in arrays,
        }
        (tmp / PARAMS).write_text(json.dumps(document, indent=2, sort_keys=True))
        names = [f"{name}.npy" for name in saved] + [PARAMS]
        meta_doc = {
            "format_version": FORMAT_VERSION,
            "checksums": {name: _sha256(tmp / name) for name in names},
            "n_users": als.n_users,
            "n_items": als.n_items,
            "extra": meta or {},
        }
        (tmp / META).write_text(json.dumps(meta_doc, indent=2, sort_keys=True))
        for name in (*names, META):
            _fsync(tmp / name)
        os.rename(tmp, target)
        _fsync(target.parent)  # make the rename itself durable
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``meta.json`` of an artifact, validated for format version (no checksum check)."""
    try:
        document = json.loads((Path(path) / META).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"unreadable meta.json in {path}: {exc}") from exc
    if not isinstance(document, dict) or document.get("format_version") not in READABLE_FORMATS:
        raise ArtifactError(f"unsupported artifact format in {path}")
    return document


def verify(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every file against its checksum; returns the meta document."""
    root = Path(path)
    document = read_meta(root)
    for name, expected in document.get("checksums", {}).items():
        try:
            actual = _sha256(root / name)
        except OSError as exc:
            raise ArtifactError(f"missing {name} in {root}") from exc
        if expected != actual:
            raise ArtifactError(f"checksum mismatch for {name} in {root}")
    return document


def load(path: str | os.PathLike[str], *, mmap: bool = True) -> HybridModel:
    """Load and verify an artifact written by ``save``; raises ``ArtifactError`` if damaged.

    Arrays are memory-mapped read-only (``mmap=True``), so processes share their pages;
    the item-item matrices then read the rows a request needs from the same files.
    """
    root = Path(path)
    meta = verify(root)
    mode = "r" if mmap else None
    try:
        document = json.loads((root / PARAMS).read_text())
        ease_b = "ease_bf16" if meta["format_version"] >= 3 else EASE_FLOAT32
        names = [ease_b if n == "ease_bf16" else n for n in ARRAYS]
        names += [*(OPTIONAL_ARRAYS if document.get("has_cooc") else ())]
        names += [EASE_DIAG] if document.get("has_ease_diag") else []
        missing = [n for n in names if f"{n}.npy" not in meta.get("checksums", {})]
        if missing:
            raise ValueError(f"arrays not listed in meta.json: {missing}")
        arrays = {
            name: np.load(root / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
            for name in names
        }
        params = HybridParams.from_dict(document["params"])
        weights = ConfidenceWeights.from_dict(document["weights"])
        popularity = np.asarray(arrays["item_popularity"])
        als = AlsModel(
            user_factors=arrays["user_factors"],
            item_factors=arrays["item_factors"],
            params=AlsParams.from_dict(document["params"]["als"]),
            user_index=IdIndex(np.asarray(arrays["user_ids"])),
            item_index=IdIndex(np.asarray(arrays["item_ids"])),
            weights=weights,
            item_popularity=popularity if popularity.size else None,
        )
        ease = None
        if document.get("has_ease"):
            expected = np.uint16 if ease_b == "ease_bf16" else np.float32
            if arrays[ease_b].dtype != expected:
                raise ValueError(f"{ease_b} of dtype {arrays[ease_b].dtype}")
            ease = EaseModel(
                weights=arrays[ease_b],
                items=np.asarray(arrays["ease_items"]),
                n_items=als.n_items,
                params=EaseParams.from_dict(document["params"]["ease"]),
                diag=np.asarray(arrays[EASE_DIAG]) if EASE_DIAG in arrays else None,
                file=NpyFile.of(arrays[ease_b]),
            )
        cooc = None
        if document.get("has_cooc"):
            n = als.n_items
            # scipy keeps the memory-mapped arrays as they are (no copy) when dtypes match.
            weights_s = sp.csr_matrix(
                (arrays["cooc_data"], arrays["cooc_indices"], arrays["cooc_indptr"]),
                shape=(n, n),
                copy=False,
            )
            data_file = NpyFile.of(arrays["cooc_data"])
            indices_file = NpyFile.of(arrays["cooc_indices"])
            cooc = CoocModel(
                weights=weights_s,
                params=params.cooc,
                files=(data_file, indices_file) if data_file and indices_file else None,
            )
        model = HybridModel(
            als=als,
            ease=ease,
            params=params,
            calibration_x=np.asarray(arrays["calibration_x"]),
            calibration_p=np.asarray(arrays["calibration_p"]),
            cooc=cooc,
        )
    except (KeyError, ValueError, OSError) as exc:
        raise ArtifactError(f"malformed artifact {root}: {exc}") from exc
    if als.user_factors.shape[0] != len(als.user_index) or als.item_factors.shape[0] != len(
        als.item_index
    ):
        raise ArtifactError(f"factor shapes do not match id maps in {root}")
    return model
