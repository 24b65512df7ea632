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

FORMAT_VERSION = 2
ARRAYS = (
    "user_ids",
    "item_ids",
    "user_factors",
    "item_factors",
    "item_popularity",
    "ease_weights",
    "ease_items",
    "calibration_x",
    "calibration_p",
)
OPTIONAL_ARRAYS = ("cooc_data", "cooc_indices", "cooc_indptr")
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
        "ease_weights": ease.weights if ease is not None else np.zeros((0, 0), np.float32),
        "ease_items": ease.items if ease is not None else np.zeros(0, np.int64),
        "calibration_x": np.asarray(model.calibration_x, dtype=np.float64),
        "calibration_p": np.asarray(model.calibration_p, dtype=np.float64),
    }
    if model.cooc is not None:
        cooc = model.cooc.weights
        arrays.update(cooc_data=cooc.data, cooc_indices=cooc.indices, cooc_indptr=cooc.indptr)
    saved = [name for name in (*ARRAYS, *OPTIONAL_ARRAYS) if name in arrays]
    try:
        for name in saved:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arrays[name]), allow_pickle=False)
        document = {
            "params": model.params.to_dict(),
            "weights": als.weights.to_dict(),
            "has_ease": ease is not None,
            "has_cooc": model.cooc is not None,
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
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
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

    Arrays are memory-mapped read-only (``mmap=True``), so processes share their pages.
    """
    root = Path(path)
    meta = verify(root)
    mode = "r" if mmap else None
    try:
        document = json.loads((root / PARAMS).read_text())
        names = [*ARRAYS, *(OPTIONAL_ARRAYS if document.get("has_cooc") else ())]
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
            ease = EaseModel(
                weights=arrays["ease_weights"],
                items=np.asarray(arrays["ease_items"]),
                n_items=als.n_items,
                params=EaseParams.from_dict(document["params"]["ease"]),
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
            cooc = CoocModel(weights=weights_s, params=params.cooc)
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
