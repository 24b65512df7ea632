"""Two web processes and two Celery worker pools as separate processes on loopback.

A model trained and activated by the ``ml`` worker reaches every web process by itself: each
web process checks the active version in Redis every ``RECS_VERSION_CHECK_SECONDS`` and loads
the new artifact from the shared model volume. The training task is sent the way beat and
``train_model --async`` send it (routed by name), so it also shows the routing at work: the
``ml`` pool runs it, the ``sync`` pool never sees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings

from bench.scaleout import Worker
from movierec.celery import app
from tests.hardening.conftest import LiveServer, database_url_for_tests, server_env
from tests.recs.training.conftest import planted_load

pytestmark = pytest.mark.slow
TRAIN = "tasks.training.recs_model_train"


def _serving(web: LiveServer) -> int | None:
    return requests.get(f"{web.url}/readyz", timeout=30).json()["checks"]["model"].get("serving")


def _wait_all_serve(webs: list[LiveServer], version: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen: list[int | None] = []
    while time.monotonic() < deadline:
        seen = [_serving(web) for web in webs]
        if seen == [version] * len(webs):
            return
        time.sleep(0.25)
    raise AssertionError(f"after {timeout} s the web processes serve {seen}, not v{version}")


@pytest.fixture
def cluster(transactional_db: Any, tmp_path: Path, settings: Any) -> Iterator[dict[str, Any]]:
    """Two gunicorn web processes and two worker pools (sync, ml) on one model volume."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False  # results come back from the real worker
    planted_load()
    env = server_env(
        django_settings.REDIS_URL,
        django_settings.CELERY_BROKER_URL,
        database_url_for_tests(),
        RECS_MODEL_DIR=str(tmp_path / "volume"),
        RECS_TUNE_MAX_TRIALS="2",
        RECS_PROMOTION_MARGIN="1.0",  # about propagation, not the gate
        RECS_VERSION_CHECK_SECONDS="1",
        LOG_LEVEL="INFO",
    )
    app.control.purge()
    workers = {
        "sync": Worker("default,sync", env, tmp_path / "worker-sync.log"),
        "ml": Worker("ml", env, tmp_path / "worker-ml.log"),
    }
    webs = [LiveServer(env, tmp_path / f"web-{i}.log") for i in range(2)]
    try:
        for web in webs:
            web.start()
        for worker in workers.values():
            worker.wait_ready()
        yield {"webs": webs, "workers": workers}
    finally:
        for web in webs:
            web.stop()
        for worker in workers.values():
            worker.stop()
        app.conf.task_always_eager = True


def _train_on_a_worker() -> dict[str, Any]:
    result = app.send_task(TRAIN).get(timeout=240)
    assert result["status"] == "active", result
    return result


def test_a_model_activated_by_the_ml_worker_reaches_every_web_process(
    cluster: dict[str, Any],
) -> None:
    webs, workers = cluster["webs"], cluster["workers"]
    assert [_serving(web) for web in webs] == [None, None]  # nothing trained yet

    first = _train_on_a_worker()
    _wait_all_serve(webs, first["version"])

    second = _train_on_a_worker()
    assert second["version"] != first["version"]
    _wait_all_serve(webs, second["version"])

    received = f"Task {TRAIN}["  # the worker's "received" and "succeeded" log lines
    assert workers["ml"].log().count(received) >= 4
    assert received not in workers["sync"].log()
    pids = {web.proc.pid for web in webs if web.proc is not None}
    assert len(pids) == 2
