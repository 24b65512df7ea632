"""Model artifacts in Django's ``storages["models"]`` (local disk by default, S3 in production).

Training writes a version to a local scratch directory with the engine
(``recs.engine.artifacts.save``) and uploads each file; ``meta.json`` goes last, so a version
is complete once it is there. Serving needs a local path to memory-map the arrays: for a
filesystem storage that is the stored file itself, otherwise the files are downloaded once
into ``RECS_MODEL_CACHE_DIR`` (checksums verified by the engine's ``load``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from recs.engine import artifacts
from recs.engine.hybrid import HybridModel

ALIAS = "models"


def model_storage() -> Storage:
    return storages[ALIAS]


def _local_root(storage: Storage) -> Path | None:
    try:
        return Path(storage.path(""))
    except NotImplementedError:
        return None


def artifact_save(model: HybridModel, relative: str, meta: dict) -> None:
    """Write ``model`` under ``relative`` in the models storage (immutable versions)."""
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        artifacts.save(model, root / relative, meta=meta)
        return
    with tempfile.TemporaryDirectory(prefix="movierec-model-") as scratch:
        local = artifacts.save(model, Path(scratch) / "v", meta=meta)
        for name in artifacts.files(artifacts.read_meta(local)):
            with (local / name).open("rb") as fh:
                storage.save(f"{relative}/{name}", File(fh))


def artifact_delete(relative: str) -> None:
    """Remove a (partial) version, best effort."""
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        shutil.rmtree(root / relative, ignore_errors=True)
        return
    _, names = storage.listdir(relative)
    for name in names:
        storage.delete(f"{relative}/{name}")


def artifact_local_path(relative: str) -> Path:
    """A local directory holding the version's files (downloaded once when remote)."""
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        return root / relative
    target = Path(settings.RECS_MODEL_CACHE_DIR) / relative
    if (target / artifacts.META).exists():
        return target
    partial = target.parent / f".{target.name}.part"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with storage.open(f"{relative}/{artifacts.META}", "rb") as fh:
        meta_bytes = fh.read()
    (partial / artifacts.META).write_bytes(meta_bytes)
    for name in artifacts.files(artifacts.read_meta(partial))[:-1]:
        with storage.open(f"{relative}/{name}", "rb") as src, (partial / name).open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    partial.rename(target)
    return target


def artifact_load(relative: str) -> HybridModel:
    """The verified, memory-mapped model of one version."""
    return artifacts.load(artifact_local_path(relative))
