"""Save and load a model version as a directory of ``.npz`` + JSON, atomically and verified.

Layout: ``model.npz`` (factors, popularity, calibration, params/weights JSON), ``ids.npz``
(user and item id maps), ``meta.json`` (format version, SHA-256 of both npz files, params and
caller metadata such as metrics). The directory is written under a temporary name next to
the target and renamed into place, so a killed save leaves no half artifact at ``path``.
Arrays are loaded with ``allow_pickle=False``: an artifact can never execute code.
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

from .als import AlsModel, AlsParams
from .matrix import ConfidenceWeights, IdIndex

FORMAT_VERSION = 1
_FILES = ("model.npz", "ids.npz")


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


def save(model: AlsModel, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to the directory ``path`` (which must not exist: versions are
    immutable). ``meta`` is stored in ``meta.json`` under ``"extra"`` (must be JSON-able)."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        np.savez(
            tmp / "model.npz",
            user_factors=model.user_factors,
            item_factors=model.item_factors,
            item_popularity=(
                model.item_popularity
                if model.item_popularity is not None
                else np.zeros(0, dtype=np.int64)
            ),
            calibration=np.asarray(model.calibration, dtype=np.float64),
            params_json=np.asarray(json.dumps(model.params.to_dict())),
            weights_json=np.asarray(json.dumps(model.weights.to_dict())),
        )
        np.savez(
            tmp / "ids.npz",
            user_ids=model.user_index.to_array(),
            item_ids=model.item_index.to_array(),
        )
        document = {
            "format_version": FORMAT_VERSION,
            "checksums": {name: _sha256(tmp / name) for name in _FILES},
            "params": model.params.to_dict(),
            "weights": model.weights.to_dict(),
            "n_users": model.n_users,
            "n_items": model.n_items,
            "calibration": list(model.calibration),
            "extra": meta or {},
        }
        (tmp / "meta.json").write_text(json.dumps(document, indent=2, sort_keys=True))
        for name in (*_FILES, "meta.json"):
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
        document = json.loads((Path(path) / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"unreadable meta.json in {path}: {exc}") from exc
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"unsupported artifact format in {path}")
    return document


def load(path: str | os.PathLike[str]) -> AlsModel:
    """Load and verify an artifact written by ``save``; raises ``ArtifactError`` if damaged."""
    root = Path(path)
    document = read_meta(root)
    checksums = document.get("checksums", {})
    for name in _FILES:
        try:
            actual = _sha256(root / name)
        except OSError as exc:
            raise ArtifactError(f"missing {name} in {root}") from exc
        if checksums.get(name) != actual:
            raise ArtifactError(f"checksum mismatch for {name} in {root}")
    try:
        with np.load(root / "model.npz", allow_pickle=False) as arrays:
            model_arrays = {key: arrays[key] for key in arrays.files}
        with np.load(root / "ids.npz", allow_pickle=False) as arrays:
            user_ids, item_ids = arrays["user_ids"], arrays["item_ids"]
        popularity = model_arrays["item_popularity"]
        model = AlsModel(
            user_factors=model_arrays["user_factors"],
            item_factors=model_arrays["item_factors"],
            params=AlsParams.from_dict(json.loads(str(model_arrays["params_json"]))),
            user_index=IdIndex(user_ids),
            item_index=IdIndex(item_ids),
            weights=ConfidenceWeights.from_dict(json.loads(str(model_arrays["weights_json"]))),
            item_popularity=popularity if popularity.size else None,
            calibration=tuple(float(v) for v in model_arrays["calibration"]),  # type: ignore[arg-type]
        )
    except (KeyError, ValueError, OSError) as exc:
        raise ArtifactError(f"malformed artifact {root}: {exc}") from exc
    if model.user_factors.shape[0] != len(model.user_index) or model.item_factors.shape[0] != len(
        model.item_index
    ):
        raise ArtifactError(f"factor shapes do not match id maps in {root}")
    return model
