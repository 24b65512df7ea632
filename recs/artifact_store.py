"""Model artifacts in Django's ``storages["models"]``: a shared volume, or S3-compatible storage.

``RECS_ARTIFACT_STORAGE`` picks the backend (settings). Training writes a version to a local
scratch directory with the engine (``recs.engine.artifacts.save``) and uploads each file;
``meta.json`` goes last, so a version is complete once it is there. Serving needs a local path
to memory-map the arrays (so the workers of one host share their pages): for a filesystem
storage that is the stored directory itself; otherwise each host downloads a version once into
``RECS_MODEL_CACHE_DIR``: into a private temporary directory, checksum-verified, then renamed
into place, so a half-downloaded or corrupt copy is never served and concurrent workers of one
host never see each other's partial files. Every failure to read a version surfaces as
``ArtifactError``, which serving answers by keeping the previous model (or the fallback).

The interface is the five ``artifact_*`` functions; nothing else in ``recs`` touches storage.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from recs.engine import artifacts
from recs.engine.artifacts import ArtifactError
from recs.engine.hybrid import HybridModel

ALIAS = "models"
logger = structlog.get_logger(__name__)


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
                stored = storage.save(f"{relative}/{name}", File(fh))
            if stored != f"{relative}/{name}":  # a renamed object would never be found again
                raise ArtifactError(f"the store renamed {relative}/{name} to {stored}")


def artifact_delete(relative: str) -> None:
    """Remove a (partial) version, best effort."""
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        shutil.rmtree(root / relative, ignore_errors=True)
        return
    try:
        _, names = storage.listdir(relative)
        for name in names:
            storage.delete(f"{relative}/{name}")
    except Exception as exc:  # noqa: BLE001 - best effort: an orphan costs storage, not service
        logger.warning("recs.artifact_delete_failed", path=relative, error=str(exc)[:200])


def artifact_exists(relative: str) -> bool:
    """Whether a complete version is stored (its ``meta.json``, written last, is there)."""
    if not relative:
        return False
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        return (root / relative / artifacts.META).exists()
    try:
        return storage.exists(f"{relative}/{artifacts.META}")
    except Exception:  # noqa: BLE001 - an unreachable store has nothing we can read
        return False


def _download(storage: Storage, name: str, target: Path) -> None:
    bucket = getattr(storage, "bucket", None)
    if bucket is not None:
        # django-storages' S3: boto3 streams to disk (multipart, no copy held in memory).
        bucket.Object(storage._normalize_name(name)).download_file(str(target))
        return
    with storage.open(name, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _fetch(storage: Storage, relative: str, target: Path) -> None:
    """Download ``relative`` into ``target``: private temp dir, verify, rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.part-{uuid.uuid4().hex}"
    partial.mkdir()
    try:
        _download(storage, f"{relative}/{artifacts.META}", partial / artifacts.META)
        for name in artifacts.files(artifacts.read_meta(partial))[:-1]:
            _download(storage, f"{relative}/{name}", partial / name)
        artifacts.verify(partial)
        try:
            partial.rename(target)
        except OSError:
            if not (target / artifacts.META).exists():
                raise
            # Another worker of this host finished the same version first: use its copy.
    except ArtifactError:
        raise
    except Exception as exc:  # botocore and network errors are not OSErrors
        raise ArtifactError(f"cannot download {relative}: {type(exc).__name__}: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    _prune_cache(target)


def _prune_cache(keep: Path) -> None:
    """Drop cached versions beyond the newest ``RECS_MODEL_CACHE_KEEP`` (plus ``keep``).

    Safe while other processes serve one of them: their memory maps keep the unlinked pages.
    """
    versions = (p for p in keep.parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    others = sorted(
        (p for p in versions if p != keep), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in others[settings.RECS_MODEL_CACHE_KEEP :]:
        shutil.rmtree(old, ignore_errors=True)


def artifact_local_path(relative: str) -> Path:
    """A local directory holding the version's files (downloaded once per host when remote)."""
    if not relative:
        raise ArtifactError("the version has no artifact")
    storage = model_storage()
    root = _local_root(storage)
    if root is not None:
        return root / relative
    target = Path(settings.RECS_MODEL_CACHE_DIR) / relative
    if not (target / artifacts.META).exists():
        _fetch(storage, relative, target)
    return target


def artifact_load(relative: str) -> HybridModel:
    """The verified, memory-mapped model of one version.

    A remote version whose cached copy fails verification (damaged on this host's disk) is
    downloaded again once; a damaged stored copy raises ``ArtifactError``.
    """
    path = artifact_local_path(relative)
    try:
        return artifacts.load(path)
    except ArtifactError:
        if _local_root(model_storage()) is not None:
            raise
        logger.warning("recs.artifact_cache_damaged", path=relative)
        shutil.rmtree(path, ignore_errors=True)
        return artifacts.load(artifact_local_path(relative))
