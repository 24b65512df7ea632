"""Model artifacts on S3-compatible object storage (django-storages' S3 backend, boto3).

Against a real S3 API on loopback (moto's server mode, tests/recs/s3.py): training publishes
there, web processes download each version once into their cache directory and memory-map it,
corrupt or missing objects never go live, and a fresh gunicorn process configured only through
the environment (``RECS_ARTIFACT_STORAGE=s3``) serves the active model and follows activations.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from recs import artifact_store, services, serving
from recs.engine import artifacts
from recs.engine.artifacts import ArtifactError
from recs.health import check_model
from recs.models import ModelVersion
from tests.hardening.conftest import LiveServer, database_url_for_tests, server_env
from tests.recs.conftest import activate_new_model
from tests.recs.s3 import PREFIX, Bucket, MotoServer, new_bucket
from tests.recs.training.conftest import planted_load


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(moto_server: MotoServer, settings: Any, tmp_path: Path) -> Bucket:
    """This test's bucket as ``storages["models"]``; nothing may land in RECS_MODEL_DIR."""
    own = new_bucket(moto_server)
    settings.STORAGES = {**settings.STORAGES, "models": own.storage()}
    settings.RECS_MODEL_DIR = tmp_path / "no-local-models"
    settings.RECS_MODEL_CACHE_DIR = tmp_path / "cache"
    settings.RECS_MODEL_RETRY_SECONDS = 0.0
    return own


def _files(version: ModelVersion) -> list[str]:
    arrays = (*artifacts.ARRAYS, artifacts.EASE_DIAG)  # the planted model: EASE, no cooc
    names = [f"{name}.npy" for name in arrays] + [artifacts.PARAMS, artifacts.META]
    return sorted(f"{PREFIX}/{version.artifact_path}/{name}" for name in names)


def test_a_version_is_stored_in_the_bucket_and_memory_mapped_from_one_download(
    planted: Any, bucket: Bucket, settings: Any
) -> None:
    version = activate_new_model()

    assert bucket.objects() == _files(version)
    assert not Path(settings.RECS_MODEL_DIR).exists()
    model = artifact_store.artifact_load(version.artifact_path)
    cached = Path(settings.RECS_MODEL_CACHE_DIR) / version.artifact_path
    assert isinstance(model.als.item_factors, np.memmap)
    assert Path(model.als.item_factors.filename) == cached / "item_factors.npy"
    assert sorted(p.name for p in Path(settings.RECS_MODEL_CACHE_DIR).iterdir()) == [cached.name]

    # Once downloaded, the host needs the store no more for this version.
    for key in bucket.objects():
        bucket.delete(key)
    again = artifact_store.artifact_load(version.artifact_path)
    np.testing.assert_array_equal(again.als.item_factors, model.als.item_factors)


def test_a_corrupt_object_is_never_cached_nor_activated(planted: Any, bucket: Bucket) -> None:
    good = activate_new_model()
    damaged = activate_new_model(publish=False)
    bucket.put(f"{PREFIX}/{damaged.artifact_path}/item_factors.npy", b"\x93NUMPY garbage")

    with pytest.raises(ArtifactError, match="checksum mismatch"):
        artifact_store.artifact_load(damaged.artifact_path)
    cache_dir = Path(django_settings.RECS_MODEL_CACHE_DIR)
    assert not (cache_dir / damaged.artifact_path).exists()
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")]  # no partials left

    damaged.status = ModelVersion.Status.READY
    damaged.save(update_fields=["status"])
    with pytest.raises(ValidationError, match="artifact is not loadable"):
        services.recs_model_activate(damaged)
    good.refresh_from_db()
    assert good.status == ModelVersion.Status.RETIRED  # activate_new_model retired it
    assert ModelVersion.objects.active().count() == 0


def test_a_missing_object_keeps_the_previous_model_and_health_says_so(
    planted: Any, bucket: Bucket
) -> None:
    first = activate_new_model()
    assert serving.active_model().version == first.pk

    second = activate_new_model()
    meta_key = f"{PREFIX}/{second.artifact_path}/{artifacts.META}"
    meta = artifact_store.model_storage().open(f"{second.artifact_path}/{artifacts.META}").read()
    bucket.delete(meta_key)  # the version is incomplete in the store

    assert serving.active_model().version == first.pk
    health = check_model()
    assert health["version"] == second.pk and health["serving"] == first.pk
    assert health["degraded"] is True
    assert f"serving version {first.pk}" in health["note"]

    bucket.put(meta_key, meta)  # the store recovers: the next check loads it
    assert serving.active_model().version == second.pk
    health = check_model()
    assert health["serving"] == second.pk and "degraded" not in health


def test_a_damaged_cached_copy_is_downloaded_again(planted: Any, bucket: Bucket) -> None:
    version = activate_new_model()
    model = artifact_store.artifact_load(version.artifact_path)
    expected = np.array(model.als.item_factors)
    cached = Path(django_settings.RECS_MODEL_CACHE_DIR) / version.artifact_path
    (cached / "item_factors.npy").write_bytes(b"truncated by a full disk")

    reloaded = artifact_store.artifact_load(version.artifact_path)

    np.testing.assert_array_equal(np.asarray(reloaded.als.item_factors), expected)
    artifacts.verify(cached)


def _served(server: LiveServer) -> dict[str, Any]:
    return requests.get(f"{server.url}/readyz", timeout=30).json()["checks"]["model"]


def _wait_served(server: LiveServer, version: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    model: dict[str, Any] = {}
    while time.monotonic() < deadline:
        model = _served(server)
        if model.get("serving") == version:
            return model
        time.sleep(0.2)
    raise AssertionError(f"{server.url} still serves {model} after {timeout} s, not v{version}")


def _worker_maps(server: LiveServer) -> str:
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return "".join(Path(f"/proc/{pid}/maps").read_text() for pid in children.split())


@pytest.mark.slow
def test_training_publishes_to_s3_and_a_fresh_web_process_serves_and_switches(
    transactional_db: Any,
    bucket: Bucket,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RECS_TUNE_MAX_TRIALS = 2
    settings.RECS_PROMOTION_MARGIN = 1.0  # this test is about where versions live, not the gate
    planted_load()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.recs_model_train()
    assert first.status == ModelVersion.Status.ACTIVE
    assert bucket.objects() == _files(first)

    web_cache = tmp_path / "web-cache"
    env = server_env(
        django_settings.REDIS_URL,
        django_settings.CELERY_BROKER_URL,
        database_url_for_tests(),
        RECS_MODEL_DIR=str(tmp_path / "web-has-no-volume"),
        **bucket.env(web_cache),
    )
    web = LiveServer(env, tmp_path / "web.log")
    web.start()
    try:
        model = _wait_served(web, first.pk)
        assert "degraded" not in model
        assert (web_cache / first.artifact_path / artifacts.META).exists()
        assert str(web_cache / first.artifact_path / "item_factors.npy") in _worker_maps(web)

        with django_capture_on_commit_callbacks(execute=True):
            second = services.recs_model_train()
        assert second.status == ModelVersion.Status.ACTIVE, second.note

        _wait_served(web, second.pk)
        assert (web_cache / second.artifact_path / artifacts.META).exists()
        assert not (tmp_path / "web-has-no-volume").exists()
    finally:
        web.stop()


def test_the_cache_keeps_the_newest_versions_only(
    planted: Any, bucket: Bucket, settings: Any
) -> None:
    settings.RECS_MODEL_CACHE_KEEP = 1
    cache_dir = Path(settings.RECS_MODEL_CACHE_DIR)
    old, previous, new = (activate_new_model(publish=False) for _ in range(3))
    for age, version in ((200, old), (100, previous)):
        artifact_store.artifact_load(version.artifact_path)
        stamp = time.time() - age
        os.utime(cache_dir / version.artifact_path, (stamp, stamp))

    model = artifact_store.artifact_load(new.artifact_path)

    kept = sorted(p.name for p in cache_dir.iterdir())
    assert kept == sorted([previous.artifact_path, new.artifact_path])
    assert model.n_items > 0
